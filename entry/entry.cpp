#include "entry/entry.h"

#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

extern "C" {
void myst_sigsys_entry();
void myst_sigreturn_trampoline();
extern char myst_allowed_begin[];
extern char myst_allowed_end[];
int myst_enter_program(myst::entry::EntryState* state, uint64_t entry, uint64_t stack);
[[noreturn]] void myst_leave_program(myst::entry::EntryState* state, int status);
void myst_sigsys_dispatch(int signal, siginfo_t* info, ucontext_t* context);
void myst_fault_entry();
void myst_fault_dispatch(int signal, siginfo_t* info, ucontext_t* context);
void myst_kernel_fault(int signal, siginfo_t* info, ucontext_t* context);
}

namespace myst::entry {

namespace {

static_assert(offsetof(EntryState, program_fs) == 8);
static_assert(offsetof(EntryState, selector) == 16);
static_assert(offsetof(EntryState, kernel_stack_pointer) == 32);
static_assert(offsetof(EntryState, kernel_mxcsr) == 40);
static_assert(offsetof(EntryState, kernel_fpu_control) == 44);

constexpr size_t signal_stack_size = 256 * 1024;
constexpr unsigned long sa_restorer_flag = 0x04000000;
constexpr unsigned long hwcap2_fsgsbase = 1 << 1;

// The kernel's struct sigaction: glibc's sigaction() would install its own
// restorer, whose sigreturn lies outside the allowed range.
struct KernelSigaction {
    void (*handler)();
    unsigned long flags;
    void (*restorer)();
    uint64_t mask;
};

uint64_t read_fs_base() {
    uint64_t value;
    asm volatile("rdfsbase %0" : "=r"(value));
    return value;
}

void write_gs_base(uint64_t value) {
    asm volatile("wrgsbase %0" ::"r"(value) : "memory");
}

}  // namespace

EntryState& current_entry_state() {
    uint64_t value;
    asm volatile("rdgsbase %0" : "=r"(value));
    return *reinterpret_cast<EntryState*>(value);
}

Result<void> install_syscall_capture() {
    if (!(::getauxval(AT_HWCAP2) & hwcap2_fsgsbase))
        return Error(ENOTSUP,
                     "this CPU or host kernel lacks FSGSBASE, which myst's syscall entry needs");
    KernelSigaction action{myst_sigsys_entry, SA_SIGINFO | SA_ONSTACK | sa_restorer_flag,
                           myst_sigreturn_trampoline, 0};
    if (::syscall(SYS_rt_sigaction, SIGSYS, &action, nullptr, sizeof(uint64_t)) != 0)
        return Error::from_errno(errno, "cannot install the SIGSYS handler");
    KernelSigaction fault{myst_fault_entry, SA_SIGINFO | SA_ONSTACK | sa_restorer_flag,
                          myst_sigreturn_trampoline, 0};
    for (int signal : fault_signals)
        if (::syscall(SYS_rt_sigaction, signal, &fault, nullptr, sizeof(uint64_t)) != 0)
            return Error::from_errno(errno, "cannot install a fault handler");
    return {};
}

Result<std::unique_ptr<ProgramThread>> ProgramThread::create(void* thread, SyscallHandler handler,
                                                             FaultHandler fault_handler) {
    auto program_thread = std::unique_ptr<ProgramThread>(new ProgramThread());
    program_thread->m_state.thread = thread;
    program_thread->m_state.handler = handler;
    program_thread->m_state.fault_handler = fault_handler;
    program_thread->m_signal_stack = std::make_unique_for_overwrite<uint8_t[]>(signal_stack_size);
    stack_t stack{};
    stack.ss_sp = program_thread->m_signal_stack.get();
    stack.ss_size = signal_stack_size;
    if (::sigaltstack(&stack, nullptr) != 0)
        return Error::from_errno(errno, "sigaltstack");
    return program_thread;
}

ProgramThread::~ProgramThread() {
    stack_t disable{};
    disable.ss_flags = SS_DISABLE;
    ::sigaltstack(&disable, nullptr);
}

int ProgramThread::run(uint64_t entry_point, uint64_t stack_pointer) {
    m_state.kernel_fs = read_fs_base();
    m_state.selector = 0;
    write_gs_base(reinterpret_cast<uint64_t>(&m_state));
    auto allowed = reinterpret_cast<uintptr_t>(myst_allowed_begin);
    size_t allowed_length = static_cast<size_t>(myst_allowed_end - myst_allowed_begin);
    if (::prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, allowed, allowed_length,
                &m_state.selector) != 0)
        return -errno;
    int status = myst_enter_program(&m_state, entry_point, stack_pointer);
    ::prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
    // leave_program() abandoned a signal handler whose mask blocked its signal.
    sigset_t ours;
    sigemptyset(&ours);
    sigaddset(&ours, SIGSYS);
    for (int signal : fault_signals)
        sigaddset(&ours, signal);
    ::sigprocmask(SIG_UNBLOCK, &ours, nullptr);
    return status;
}

void leave_program(int status) {
    myst_leave_program(&current_entry_state(), status);
}

}  // namespace myst::entry

using myst::entry::current_entry_state;

extern "C" void myst_sigsys_dispatch(int, siginfo_t* info, ucontext_t* context) {
    auto& state = current_entry_state();
    greg_t* registers = context->uc_mcontext.gregs;
    const uint64_t arguments[6] = {
        static_cast<uint64_t>(registers[REG_RDI]), static_cast<uint64_t>(registers[REG_RSI]),
        static_cast<uint64_t>(registers[REG_RDX]), static_cast<uint64_t>(registers[REG_R10]),
        static_cast<uint64_t>(registers[REG_R8]),  static_cast<uint64_t>(registers[REG_R9])};
    registers[REG_RAX] = state.handler(state.thread, info->si_syscall, arguments, context);
}

extern "C" void myst_fault_dispatch(int signal, siginfo_t* info, ucontext_t* context) {
    auto& state = current_entry_state();
    state.fault_handler(state.thread, signal, info, context);
}

// A fault in the kernel's own code is a bug: say so and let the host's
// default action end the process (the handler is reset, the fault repeats).
extern "C" void myst_kernel_fault(int signal, siginfo_t* info, ucontext_t*) {
    char line[128];
    int length = std::snprintf(line, sizeof line, "myst: kernel fault: signal %d at address %p\n",
                               signal, info->si_addr);
    ssize_t ignored = ::write(STDERR_FILENO, line, static_cast<size_t>(length));
    (void)ignored;
    ::signal(signal, SIG_DFL);
}
