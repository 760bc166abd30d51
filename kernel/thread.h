// A thread of a program: a host thread that runs program code with syscall
// user dispatch on and enters the kernel on every system call.
#pragma once

#include <sched.h>
#include <signal.h>
#include <sys/types.h>
#include <ucontext.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel/program_call.h"

namespace myst::kernel {

class Kernel;
class Process;

class Thread {
public:
    Thread(Kernel& kernel, Process& process, pid_t tid)
        : m_kernel(kernel), m_process(process), m_tid(tid) {}

    Kernel& kernel() { return m_kernel; }
    Process& process() { return m_process; }
    pid_t tid() const { return m_tid; }

    uint64_t clear_child_tid = 0;  // set_tid_address(2)
    uint64_t robust_list = 0;      // set_robust_list(2)
    uint64_t robust_list_size = 0;
    uint64_t signal_mask = 0;                      // rt_sigprocmask(2), recorded
    stack_t signal_stack{nullptr, SS_DISABLE, 0};  // sigaltstack(2), recorded
    std::string name;                              // prctl(PR_SET_NAME)
    // sched_setaffinity(2), kept and reported; placement is the host's.
    // None: every CPU the host gives the kernel.
    std::optional<cpu_set_t> cpu_affinity;
    uint64_t pending_signals = 0;     // raised while blocked, bit (signal - 1)
    siginfo_t pending_info[65] = {};  // what each pending signal was sent with
    // The program's registers where it entered the kernel (the host signal
    // frame of the current syscall or fault): signal delivery and
    // rt_sigreturn change them.
    ucontext_t* context = nullptr;
    // rt_sigtimedwait(2): the signals the thread waits for (blocked ones
    // among them still interrupt its wait).
    uint64_t waiting_for = 0;
    // rt_sigsuspend(2): the mask a handler's return restores instead of the
    // temporary one in signal_mask.
    bool restore_mask_after_handler = false;
    uint64_t mask_after_handler = 0;
    pid_t host_tid = 0;  // the host thread running it (interrupts)
    // It runs program code now, not kernel code (kernel/memory_image.h).
    bool in_program = false;
    // It waits on the host without the kernel lock (a BlockingScope).
    bool in_host_wait = false;
    bool exit_started = false;  // it left (or is leaving) program code for good
    // Another thread ended the process or exec'd: leave at the next entry.
    bool exit_requested = false;
    // Program functions the kernel called (SYS_myst_verify_cert's
    // verifier), latest last: what their return restores.
    std::vector<SavedProgramCall> program_calls;

private:
    Kernel& m_kernel;
    Process& m_process;
    pid_t m_tid;
};

}  // namespace myst::kernel
