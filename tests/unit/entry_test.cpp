// The syscall entry: the FS-switch choice, the Syscall User Dispatch probe,
// the state lookup of the entry without FSGSBASE, and a real trapped syscall
// through each entry on this host thread.
#include <gtest/gtest.h>
#include <sys/auxv.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "entry/entry.h"

using myst::entry::EntryState;
using myst::entry::FsSwitch;

namespace {

constexpr unsigned long hwcap2_fsgsbase = 1 << 1;

TEST(EntryTest, UsesFsgsbaseWhenTheHostOffersIt) {
    EXPECT_EQ(myst::entry::choose_fs_switch(hwcap2_fsgsbase, nullptr).value(), FsSwitch::fsgsbase);
    EXPECT_EQ(myst::entry::choose_fs_switch(hwcap2_fsgsbase, "0").value(), FsSwitch::fsgsbase);
    EXPECT_EQ(myst::entry::choose_fs_switch(hwcap2_fsgsbase, "").value(), FsSwitch::fsgsbase);
}

TEST(EntryTest, FallsBackToArchPrctlWithoutFsgsbase) {
    EXPECT_EQ(myst::entry::choose_fs_switch(0, nullptr).value(), FsSwitch::arch_prctl);
    EXPECT_EQ(myst::entry::choose_fs_switch(0, "0").value(), FsSwitch::arch_prctl);
}

TEST(EntryTest, MystNoFsgsbaseForcesArchPrctl) {
    EXPECT_EQ(myst::entry::choose_fs_switch(hwcap2_fsgsbase, "1").value(), FsSwitch::arch_prctl);
}

TEST(EntryTest, BadMystNoFsgsbaseValueIsAnErrorNamingTheVariable) {
    auto choice = myst::entry::choose_fs_switch(hwcap2_fsgsbase, "yes");
    ASSERT_TRUE(choice.is_error());
    EXPECT_EQ(choice.error().code(), EINVAL);
    EXPECT_NE(choice.error().message().find("MYST_NO_FSGSBASE"), std::string::npos);
    EXPECT_NE(choice.error().message().find("yes"), std::string::npos);
}

int prctl_without_dispatch(int, unsigned long, unsigned long, unsigned long, unsigned long) {
    errno = EINVAL;  // what Linux < 5.11 answers for an unknown option
    return -1;
}

TEST(EntryTest, HostWithoutSyscallUserDispatchIsNamed) {
    auto probed = myst::entry::probe_syscall_user_dispatch(prctl_without_dispatch);
    ASSERT_TRUE(probed.is_error());
    const std::string& message = probed.error().message();
    EXPECT_NE(message.find("Syscall User Dispatch"), std::string::npos) << message;
    EXPECT_NE(message.find("5.11"), std::string::npos) << message;
}

TEST(EntryTest, ThisHostHasSyscallUserDispatch) {
    auto real_prctl = [](int option, unsigned long a, unsigned long b, unsigned long c,
                         unsigned long d) { return ::prctl(option, a, b, c, d); };
    EXPECT_FALSE(myst::entry::probe_syscall_user_dispatch(real_prctl).is_error());
    // The probe leaves dispatch off: this host call is not trapped.
    EXPECT_EQ(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) >= 0, true);
}

TEST(EntryTest, StateIsFoundAtTheBaseOfTheSignalStack) {
    EntryState state;
    auto stack = std::make_unique<EntryState*[]>(64);
    stack[0] = &state;
    ucontext_t context{};
    context.uc_stack.ss_sp = stack.get();
    context.uc_stack.ss_size = 64 * sizeof(EntryState*);
    context.uc_stack.ss_flags = SS_ONSTACK;
    EXPECT_EQ(myst::entry::entry_state_from_signal_stack(context), &state);
    context.uc_stack.ss_flags = SS_DISABLE;
    EXPECT_EQ(myst::entry::entry_state_from_signal_stack(context), nullptr);
    context.uc_stack.ss_flags = 0;
    context.uc_stack.ss_sp = nullptr;
    EXPECT_EQ(myst::entry::entry_state_from_signal_stack(context), nullptr);
}

// A minimal "program": syscall 1000 with 7, then exit with its result.
extern "C" void entry_test_program();
asm(R"(
    .text
    .globl entry_test_program
entry_test_program:
    mov $1000, %eax
    mov $7, %edi
    syscall
    mov %rax, %rdi
    mov $60, %eax
    syscall
    ud2
)");

constexpr uint64_t program_fs_value = 0x12345000;

// Kernel side: runs with the kernel's TLS (thread_local works) and sees the
// program's recorded FS base.
thread_local int t_kernel_calls = 0;

long test_syscall_handler(void*, long number, const uint64_t arguments[6], ucontext_t*) {
    ++t_kernel_calls;
    EXPECT_EQ(myst::entry::current_entry_state().program_fs, program_fs_value);
    if (number == 60)
        myst::entry::leave_program(static_cast<int>(arguments[0]));
    return number == 1000 ? static_cast<long>(arguments[0] * 6) : -ENOSYS;
}

void test_fault_handler(void*, int signal, siginfo_t*, ucontext_t*) {
    myst::entry::leave_program(128 + signal);
}

int run_test_program(FsSwitch fs_switch) {
    EXPECT_FALSE(myst::entry::install_syscall_capture(fs_switch).is_error());
    auto thread = myst::entry::ProgramThread::create(nullptr, test_syscall_handler,
                                                     test_fault_handler, fs_switch);
    EXPECT_FALSE(thread.is_error());
    thread.value()->state().program_fs = program_fs_value;
    auto stack = std::make_unique<uint64_t[]>(8192);
    uint64_t top = reinterpret_cast<uint64_t>(stack.get() + 8192) - 8;  // as after a call
    t_kernel_calls = 0;
    return thread.value()->run(reinterpret_cast<uint64_t>(entry_test_program), top);
}

TEST(EntryTest, TrappedSyscallThroughTheArchPrctlEntry) {
    EXPECT_EQ(run_test_program(FsSwitch::arch_prctl), 42);
    EXPECT_EQ(t_kernel_calls, 2);  // the kernel's TLS is back after the run
}

TEST(EntryTest, TrappedSyscallThroughTheFsgsbaseEntry) {
    if (!(::getauxval(AT_HWCAP2) & hwcap2_fsgsbase))
        GTEST_SKIP() << "this CPU or host kernel has no FSGSBASE; the arch_prctl entry "
                        "serves it (tested above)";
    EXPECT_EQ(run_test_program(FsSwitch::fsgsbase), 42);
    EXPECT_EQ(t_kernel_calls, 2);
}

}  // namespace
