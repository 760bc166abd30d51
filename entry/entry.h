// Syscall capture: every host thread that runs program code has Syscall User
// Dispatch on. A syscall instruction in program code raises SIGSYS, whose
// handler (entry.S) switches from the program's FS base to the kernel's,
// turns the dispatch selector to ALLOW (so the kernel's own host calls run
// natively), and calls the kernel; on the way back it restores both. The
// sigreturn that ends the handler lives in a small always-allowed text range.
//
// Two ways to switch FS, chosen once at start (FsSwitch):
// - fsgsbase: rd/wrfsbase, and the GS base (unused by x86-64 programs) points
//   at the thread's EntryState;
// - arch_prctl: for CPUs or host kernels without FSGSBASE. The EntryState is
//   found through the word at the base of the thread's alternate signal stack
//   (the ucontext's uc_stack), the selector is set to ALLOW first, and FS is
//   switched with arch_prctl(ARCH_SET_FS) from the entry's own code. Such a
//   program cannot change FS without a syscall, so the kernel's record of the
//   program's FS base is authoritative.
// Both are per thread: each host thread has its own state and signal stack.
#pragma once

#include <signal.h>
#include <ucontext.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/result.h"

namespace myst::entry {

// Serves one trapped system call: returns the value for RAX. The context is
// the program's register state, which the handler may change (e.g. FS).
using SyscallHandler = long (*)(void* thread, long number, const uint64_t arguments[6],
                                ucontext_t* context);

// Serves a synchronous fault (SIGSEGV...) raised by program code; may
// change the context to run the program's handler, or end the program.
using FaultHandler = void (*)(void* thread, int signal, siginfo_t* info, ucontext_t* context);

// How the entry switches between the program's and the kernel's FS base.
enum class FsSwitch : uint8_t {
    arch_prctl = 0,  // host calls from the entry code; works everywhere
    fsgsbase = 1,    // rd/wrfsbase instructions: no host call per trap
};

// Chooses the FS switch from the host's AT_HWCAP2 and the value of
// MYST_NO_FSGSBASE (null when unset; "1" forces arch_prctl, "0" or "" lets
// the hardware decide; anything else is an error naming the variable).
Result<FsSwitch> choose_fs_switch(unsigned long hwcap2, const char* no_fsgsbase);

// The FS switch this host offers, from its auxiliary vector and
// MYST_NO_FSGSBASE in myst's own environment.
Result<FsSwitch> host_fs_switch();

// Fails with one line naming what is missing when the host kernel has no
// Syscall User Dispatch (Linux < 5.11, or built without it). `prctl_call` is
// the host's prctl; tests pass a failing one.
using PrctlCall = int (*)(int option, unsigned long, unsigned long, unsigned long, unsigned long);
Result<void> probe_syscall_user_dispatch(PrctlCall prctl_call);

// Field offsets are used by entry.S; keep them in step.
struct EntryState {
    uint64_t kernel_fs = 0;                     // 0: the host thread's own TLS
    uint64_t program_fs = 0;                    // 8: the program's FS base (arch_prctl)
    uint8_t selector = 0;                       // 16: SUD selector: 0 allow, 1 block
    FsSwitch fs_switch = FsSwitch::arch_prctl;  // 17
    // 18: set by the interrupt signal while the thread runs kernel code; a
    // host wait started with it (Target's `interrupted` arguments) returns
    // EINTR instead of waiting.
    uint8_t interrupted = 0;
    uint8_t padding[5] = {};
    void* thread = nullptr;             // 24: the kernel's Thread
    uint64_t kernel_stack_pointer = 0;  // 32: where myst_enter_program left the kernel
    uint32_t kernel_mxcsr = 0;          // 40
    uint16_t kernel_fpu_control = 0;    // 44
    uint16_t padding2 = 0;
    SyscallHandler handler = nullptr;      // 48
    FaultHandler fault_handler = nullptr;  // 56
};

// Installs the process-wide SIGSYS handler and the handlers of the
// synchronous faults for the given FS switch (once, before any program
// runs), after checking that the host has Syscall User Dispatch.
Result<void> install_syscall_capture(FsSwitch fs_switch);

// The signals a program's own code can raise synchronously.
constexpr int fault_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};

// The host signal one program thread's kernel sends another's host thread
// to make it act on a signal: program code enters the kernel (the fault
// handler sees this signal number), a host wait in the kernel returns
// EINTR. SIGURG: ignored by default, so a stray one harms nothing.
constexpr int interrupt_signal = SIGURG;

// Kernel code runs with the interrupt signal blocked (the entries' sa_mask):
// one that arrives on the way out of the kernel, after the last look at
// pending signals, stays pending in the host until the sigreturn and is
// then taken in program code, where it enters the kernel again. A host wait
// opens this window so that the interrupt can end it (EINTR). The previous
// state comes back at the end, so the window can be opened anywhere.
class InterruptWindow {
public:
    InterruptWindow();
    ~InterruptWindow();
    InterruptWindow(const InterruptWindow&) = delete;
    InterruptWindow& operator=(const InterruptWindow&) = delete;

private:
    bool m_was_blocked = false;
};

// Runs program code on this host thread until the program leaves it through
// leave_program(); returns the status given there. Sets up the GS base, the
// kernel's signal stack and syscall user dispatch for this thread.
class ProgramThread {
public:
    static Result<std::unique_ptr<ProgramThread>> create(void* thread, SyscallHandler handler,
                                                         FaultHandler fault_handler,
                                                         FsSwitch fs_switch);
    ~ProgramThread();

    int run(uint64_t entry_point, uint64_t stack_pointer);
    // Runs program code from a full register set: `start`'s general
    // registers, flags and signal mask (its FPU state is the initial one);
    // FS is state().program_fs.
    int run_context(const ucontext_t& start);
    EntryState& state() { return m_state; }

private:
    ProgramThread() = default;
    Result<void> begin();
    void end();

    EntryState m_state;
    std::unique_ptr<uint8_t[]> m_signal_stack;
};

// From inside the kernel (a syscall handler on this thread): abandons the
// program's context and returns `status` from ProgramThread::run.
[[noreturn]] void leave_program(int status);

// The EntryState of the calling host thread (a thread_local of the kernel's
// TLS, set by ProgramThread::run).
EntryState& current_entry_state();
// Null on a host thread that runs no program (the timer threads, tests).
EntryState* current_entry_state_or_null();

// Where the arch_prctl entry finds a thread's EntryState: the first word of
// its alternate signal stack (exposed for tests).
EntryState* entry_state_from_signal_stack(const ucontext_t& context);

}  // namespace myst::entry
