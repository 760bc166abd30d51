#include "kernel/program_call.h"

#include <algorithm>
#include <cstring>

#include "kernel/kernel.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

// Where a program function called by the kernel returns: its result (RAX)
// becomes the first argument of SYS_myst_program_call_return. It lies in
// myst's ordinary text, outside the always-allowed range, so that its
// syscall traps into the kernel like any program syscall.
extern "C" void myst_program_call_return_code();
asm(R"(
    .pushsection .text
    .globl myst_program_call_return_code
    .type myst_program_call_return_code, @function
myst_program_call_return_code:
    mov %rax, %rdi
    mov $1040, %eax
    syscall
    ud2
    .size myst_program_call_return_code, .-myst_program_call_return_code
    .popsection
)");

namespace myst::kernel {

static_assert(SYS_myst_program_call_return == 1040, "keep the return code above in step");

namespace {

constexpr uint64_t red_zone = 128;
constexpr greg_t eflags_direction = 0x400;

}  // namespace

Result<void> begin_program_call(Thread& thread, uint64_t function, std::span<const uint8_t> data,
                                uint64_t argument, ProgramCallCompletion complete) {
    if (!thread.context)
        return Error(EINVAL, "no program context to call from");
    if (thread.program_calls.size() >= max_program_call_depth)
        return Error(ELOOP, "program calls nested too deep");
    ucontext_t& context = *thread.context;
    greg_t* registers = context.uc_mcontext.gregs;
    uint64_t top = static_cast<uint64_t>(registers[REG_RSP]) - red_zone;
    uint64_t data_address = (top - data.size()) & ~uint64_t(15);
    // At the function's first instruction RSP+8 is 16-byte aligned (SysV ABI).
    uint64_t return_slot = data_address - 8;
    if (top < data.size() || return_slot > top)
        return Error(EFAULT, "no room on the program's stack");
    uint64_t return_address = reinterpret_cast<uint64_t>(&myst_program_call_return_code);
    TRY(copy_to_user(thread, data_address, data.data(), data.size()));
    TRY(write_user(thread, return_slot, return_address));

    SavedProgramCall saved;
    std::memcpy(saved.registers, registers, sizeof(gregset_t));
    if (size_t size = fpu_state_size(context); size != 0) {
        const auto* fpu = reinterpret_cast<const uint8_t*>(context.uc_mcontext.fpregs);
        saved.fpu.assign(fpu, fpu + size);
    }
    saved.complete = complete;
    thread.program_calls.push_back(std::move(saved));

    registers[REG_RIP] = static_cast<greg_t>(function);
    registers[REG_RDI] = static_cast<greg_t>(data_address);
    registers[REG_RSI] = static_cast<greg_t>(argument);
    registers[REG_RSP] = static_cast<greg_t>(return_slot);
    registers[REG_EFL] &= ~eflags_direction;  // the ABI's state at a call
    return {};
}

// MystProgramCallReturn ends a program call (kernel/program_call.h).
Result<long> sys_myst_program_call_return(Thread& thread, const SyscallArgs& args) {
    if (thread.program_calls.empty() || !thread.context)
        return Error(EINVAL, "no program call to return from");
    SavedProgramCall saved = std::move(thread.program_calls.back());
    thread.program_calls.pop_back();
    ucontext_t& context = *thread.context;
    greg_t* registers = context.uc_mcontext.gregs;
    greg_t segments = registers[REG_CSGSFS];
    std::memcpy(registers, saved.registers, sizeof(gregset_t));
    registers[REG_CSGSFS] = segments;
    size_t size = std::min(saved.fpu.size(), fpu_state_size(context));
    if (size != 0)
        std::memcpy(context.uc_mcontext.fpregs, saved.fpu.data(), size);
    return saved.complete(static_cast<long>(args.raw[0]));
}

}  // namespace myst::kernel
