// Syscall capture: every host thread that runs program code has Syscall User
// Dispatch on. A syscall instruction in program code raises SIGSYS, whose
// handler (entry.S) switches from the program's FS base to the kernel's,
// turns the dispatch selector to ALLOW (so the kernel's own host calls run
// natively), and calls the kernel; on the way back it restores both. The
// per-thread EntryState is found through the GS base, which programs do not
// use on x86-64. The sigreturn that ends the handler lives in a small
// always-allowed text range.
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

// Field offsets are used by entry.S; keep them in step.
struct EntryState {
    uint64_t kernel_fs = 0;   // 0: the host thread's own TLS
    uint64_t program_fs = 0;  // 8: the program's FS base (arch_prctl)
    uint8_t selector = 0;     // 16: SUD selector: 0 allow, 1 block
    uint8_t padding[7] = {};
    void* thread = nullptr;             // 24: the kernel's Thread
    uint64_t kernel_stack_pointer = 0;  // 32: where myst_enter_program left the kernel
    uint32_t kernel_mxcsr = 0;          // 40
    uint16_t kernel_fpu_control = 0;    // 44
    uint16_t padding2 = 0;
    SyscallHandler handler = nullptr;      // 48
    FaultHandler fault_handler = nullptr;  // 56
};

// Installs the process-wide SIGSYS handler and the handlers of the
// synchronous faults (once, before any program runs).
Result<void> install_syscall_capture();

// The signals a program's own code can raise synchronously.
constexpr int fault_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};

// Runs program code on this host thread until the program leaves it through
// leave_program(); returns the status given there. Sets up the GS base, the
// kernel's signal stack and syscall user dispatch for this thread.
class ProgramThread {
public:
    static Result<std::unique_ptr<ProgramThread>> create(void* thread, SyscallHandler handler,
                                                         FaultHandler fault_handler);
    ~ProgramThread();

    int run(uint64_t entry_point, uint64_t stack_pointer);
    EntryState& state() { return m_state; }

private:
    ProgramThread() = default;
    EntryState m_state;
    std::unique_ptr<uint8_t[]> m_signal_stack;
};

// From inside the kernel (a syscall handler on this thread): abandons the
// program's context and returns `status` from ProgramThread::run.
[[noreturn]] void leave_program(int status);

// The EntryState of the calling host thread (through the GS base).
EntryState& current_entry_state();

}  // namespace myst::entry
