#include "entry/entry.h"

#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

extern "C" {
void myst_sigsys_entry();
void myst_sigsys_entry_arch_prctl();
void myst_sigreturn_trampoline();
extern char myst_allowed_begin[];
extern char myst_allowed_end[];
int myst_enter_program(myst::entry::EntryState* state, uint64_t entry, uint64_t stack);
int myst_enter_program_context(myst::entry::EntryState* state, ucontext_t* context);
[[noreturn]] void myst_leave_program(myst::entry::EntryState* state, int status);
void myst_sigsys_dispatch(int signal, siginfo_t* info, ucontext_t* context,
                          myst::entry::EntryState* state);
void myst_fault_entry();
void myst_fault_entry_arch_prctl();
void myst_interrupt_entry();
void myst_interrupt_entry_arch_prctl();
void myst_fault_dispatch(int signal, siginfo_t* info, ucontext_t* context,
                         myst::entry::EntryState* state);
void myst_kernel_fault(int signal, siginfo_t* info, ucontext_t* context);
}

namespace myst::entry {

namespace {

static_assert(offsetof(EntryState, program_fs) == 8);
static_assert(offsetof(EntryState, selector) == 16);
static_assert(offsetof(EntryState, fs_switch) == 17);
static_assert(offsetof(EntryState, interrupted) == 18);
static_assert(offsetof(ucontext_t, uc_mcontext) + REG_RIP * sizeof(greg_t) == 168);
static_assert(offsetof(ucontext_t, uc_stack) + offsetof(stack_t, ss_sp) == 16);
static_assert(offsetof(ucontext_t, uc_stack) + offsetof(stack_t, ss_flags) == 24);
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

constexpr uint64_t interrupt_signal_bit = uint64_t(1) << (interrupt_signal - 1);

uint64_t read_fs_base() {
    uint64_t value;
    asm volatile("mov %%fs:0, %0" : "=r"(value));  // the TCB points at itself
    return value;
}

void write_gs_base(uint64_t value) {
    asm volatile("wrgsbase %0" ::"r"(value) : "memory");
}

// The calling host thread's EntryState, in the kernel's TLS.
thread_local EntryState* t_current_state = nullptr;

}  // namespace

EntryState& current_entry_state() {
    return *t_current_state;
}

EntryState* current_entry_state_or_null() {
    return t_current_state;
}

EntryState* entry_state_from_signal_stack(const ucontext_t& context) {
    if ((context.uc_stack.ss_flags & SS_DISABLE) || context.uc_stack.ss_sp == nullptr)
        return nullptr;
    return *static_cast<EntryState**>(context.uc_stack.ss_sp);
}

Result<FsSwitch> choose_fs_switch(unsigned long hwcap2, const char* no_fsgsbase) {
    bool forced_off = false;
    if (no_fsgsbase != nullptr) {
        std::string_view value = no_fsgsbase;
        if (value == "1")
            forced_off = true;
        else if (value != "0" && !value.empty())
            return Error(EINVAL,
                         "MYST_NO_FSGSBASE must be 0 or 1, not '" + std::string(value) + "'");
    }
    if (forced_off || !(hwcap2 & hwcap2_fsgsbase))
        return FsSwitch::arch_prctl;
    return FsSwitch::fsgsbase;
}

Result<FsSwitch> host_fs_switch() {
    return choose_fs_switch(::getauxval(AT_HWCAP2), std::getenv("MYST_NO_FSGSBASE"));
}

Result<void> probe_syscall_user_dispatch(PrctlCall prctl_call) {
    // Turning dispatch on with everything allowed (no selector) and off again
    // leaves the calling thread as it was.
    auto everything = ~0ul;
    if (prctl_call(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, everything, 0) != 0) {
        int error = errno;
        return Error(error == EINVAL ? ENOSYS : error,
                     "the host kernel has no Syscall User Dispatch "
                     "(PR_SET_SYSCALL_USER_DISPATCH: " +
                         std::string(std::strerror(error)) +
                         "); myst needs x86-64 Linux 5.11 or later built with "
                         "CONFIG_GENERIC_ENTRY");
    }
    prctl_call(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
    return {};
}

InterruptWindow::InterruptWindow() {
    uint64_t interrupt = interrupt_signal_bit, previous = 0;
    ::syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &interrupt, &previous, sizeof(uint64_t));
    m_was_blocked = (previous & interrupt_signal_bit) != 0;
}

InterruptWindow::~InterruptWindow() {
    if (!m_was_blocked)
        return;
    uint64_t interrupt = interrupt_signal_bit;
    ::syscall(SYS_rt_sigprocmask, SIG_BLOCK, &interrupt, nullptr, sizeof(uint64_t));
}

Result<void> install_syscall_capture(FsSwitch fs_switch) {
    TRY(probe_syscall_user_dispatch([](int option, unsigned long a, unsigned long b,
                                       unsigned long c,
                                       unsigned long d) { return ::prctl(option, a, b, c, d); }));
    bool fsgsbase = fs_switch == FsSwitch::fsgsbase;
    KernelSigaction action{fsgsbase ? myst_sigsys_entry : myst_sigsys_entry_arch_prctl,
                           SA_SIGINFO | SA_ONSTACK | sa_restorer_flag, myst_sigreturn_trampoline,
                           interrupt_signal_bit};
    if (::syscall(SYS_rt_sigaction, SIGSYS, &action, nullptr, sizeof(uint64_t)) != 0)
        return Error::from_errno(errno, "cannot install the SIGSYS handler");
    KernelSigaction fault{fsgsbase ? myst_fault_entry : myst_fault_entry_arch_prctl,
                          SA_SIGINFO | SA_ONSTACK | sa_restorer_flag, myst_sigreturn_trampoline,
                          interrupt_signal_bit};
    for (int signal : fault_signals)
        if (::syscall(SYS_rt_sigaction, signal, &fault, nullptr, sizeof(uint64_t)) != 0)
            return Error::from_errno(errno, "cannot install a fault handler");
    // No SA_RESTART: the interrupt must end a host wait in the kernel.
    KernelSigaction interrupt{fsgsbase ? myst_interrupt_entry : myst_interrupt_entry_arch_prctl,
                              SA_SIGINFO | SA_ONSTACK | sa_restorer_flag, myst_sigreturn_trampoline,
                              0};
    if (::syscall(SYS_rt_sigaction, interrupt_signal, &interrupt, nullptr, sizeof(uint64_t)) != 0)
        return Error::from_errno(errno, "cannot install the interrupt handler");
    return {};
}

Result<std::unique_ptr<ProgramThread>> ProgramThread::create(void* thread, SyscallHandler handler,
                                                             FaultHandler fault_handler,
                                                             FsSwitch fs_switch) {
    auto program_thread = std::unique_ptr<ProgramThread>(new ProgramThread());
    program_thread->m_state.thread = thread;
    program_thread->m_state.handler = handler;
    program_thread->m_state.fault_handler = fault_handler;
    program_thread->m_state.fs_switch = fs_switch;
    program_thread->m_signal_stack = std::make_unique_for_overwrite<uint8_t[]>(signal_stack_size);
    // The arch_prctl entry finds the state here (the stack grows down from
    // the other end).
    *reinterpret_cast<EntryState**>(program_thread->m_signal_stack.get()) =
        &program_thread->m_state;
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

Result<void> ProgramThread::begin() {
    m_state.kernel_fs = read_fs_base();
    m_state.selector = 0;
    t_current_state = &m_state;
    if (m_state.fs_switch == FsSwitch::fsgsbase)
        write_gs_base(reinterpret_cast<uint64_t>(&m_state));
    auto allowed = reinterpret_cast<uintptr_t>(myst_allowed_begin);
    size_t allowed_length = static_cast<size_t>(myst_allowed_end - myst_allowed_begin);
    if (::prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, allowed, allowed_length,
                &m_state.selector) != 0)
        return Error::from_errno(errno, "cannot start syscall user dispatch");
    return {};
}

void ProgramThread::end() {
    ::prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
    t_current_state = nullptr;
    // leave_program() abandoned a signal handler whose mask blocked its signal.
    sigset_t ours;
    sigemptyset(&ours);
    sigaddset(&ours, SIGSYS);
    for (int signal : fault_signals)
        sigaddset(&ours, signal);
    ::sigprocmask(SIG_UNBLOCK, &ours, nullptr);
}

int ProgramThread::run(uint64_t entry_point, uint64_t stack_pointer) {
    auto begun = begin();
    if (begun.is_error())
        return -begun.error().code();
    int status = myst_enter_program(&m_state, entry_point, stack_pointer);
    end();
    return status;
}

int ProgramThread::run_context(const ucontext_t& start) {
    // The frame rt_sigreturn reads: pretcode, then the ucontext, then siginfo.
    struct {
        uint64_t pretcode;
        ucontext_t context;
        siginfo_t info;
    } frame{};
    frame.context.uc_flags = start.uc_flags;
    std::memcpy(frame.context.uc_mcontext.gregs, start.uc_mcontext.gregs, sizeof(gregset_t));
    frame.context.uc_mcontext.fpregs = nullptr;  // the initial FPU state
    frame.context.uc_sigmask = start.uc_sigmask;
    frame.context.uc_stack.ss_sp = m_signal_stack.get();
    frame.context.uc_stack.ss_size = signal_stack_size;
    frame.context.uc_stack.ss_flags = 0;
    auto begun = begin();
    if (begun.is_error())
        return -begun.error().code();
    int status = myst_enter_program_context(&m_state, &frame.context);
    end();
    return status;
}

void leave_program(int status) {
    myst_leave_program(&current_entry_state(), status);
}

}  // namespace myst::entry

extern "C" void myst_sigsys_dispatch(int, siginfo_t* info, ucontext_t* context,
                                     myst::entry::EntryState* entry_state) {
    auto& state = *entry_state;
    greg_t* registers = context->uc_mcontext.gregs;
    const uint64_t arguments[6] = {
        static_cast<uint64_t>(registers[REG_RDI]), static_cast<uint64_t>(registers[REG_RSI]),
        static_cast<uint64_t>(registers[REG_RDX]), static_cast<uint64_t>(registers[REG_R10]),
        static_cast<uint64_t>(registers[REG_R8]),  static_cast<uint64_t>(registers[REG_R9])};
    registers[REG_RAX] = state.handler(state.thread, info->si_syscall, arguments, context);
}

extern "C" void myst_fault_dispatch(int signal, siginfo_t* info, ucontext_t* context,
                                    myst::entry::EntryState* entry_state) {
    auto& state = *entry_state;
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
