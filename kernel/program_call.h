// Calling a program function from a system call (SYS_myst_verify_cert's
// verifier). The kernel cannot simply call it: the function must run as
// program code, with the program's FS and the syscall entry armed, and may
// itself make system calls. So the call is made the way a signal handler
// is run: the syscall saves the program's registers (general and FPU) in
// the kernel, points the interrupted context at the function, with its
// arguments in RDI/RSI and a return address in program_call_return_code,
// and returns. When the function returns there, that code makes the
// private syscall SYS_myst_program_call_return with the function's result;
// it restores the saved registers and completes the original syscall with
// the value `complete` makes of the result. Only the context changes, so
// both entry paths (FSGSBASE or arch_prctl) work alike.
//
// Calls nest (a verifier may call verify_cert again) up to
// max_program_call_depth. A function that never returns (longjmp, exit)
// leaves its saved registers behind until the thread ends; exec drops them.
#pragma once

#include <ucontext.h>

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"

namespace myst::kernel {

class Thread;

// A number outside Linux's and Mystikos's ranges (Mystikos's Open Enclave
// extensions end at 1035).
constexpr long SYS_myst_program_call_return = 1040;
constexpr size_t max_program_call_depth = 8;

// What the original syscall returns, from the function's return value.
using ProgramCallCompletion = Result<long> (*)(long function_result);

// The registers a program call saved (Thread::program_calls).
struct SavedProgramCall {
    gregset_t registers;
    std::vector<uint8_t> fpu;  // the host's FPU/XSAVE frame, as the entry had it
    ProgramCallCompletion complete = nullptr;
};

// From a syscall handler on `thread`: arranges for `function(&copy of
// data, argument)` to run when the syscall returns; `data` goes on the
// program's stack (16-byte aligned, below the red zone). The caller returns
// 0 (RAX is not seen by the function). EFAULT: no room on the stack;
// ELOOP: calls nested too deep.
Result<void> begin_program_call(Thread& thread, uint64_t function, std::span<const uint8_t> data,
                                uint64_t argument, ProgramCallCompletion complete);

// The syscall's handler, sys_myst_program_call_return (listed in
// kernel/syscalls/list_tee.h), restores the registers saved by the latest
// begin_program_call and returns what its completion makes of the
// function's result; EINVAL when no call is pending.

}  // namespace myst::kernel
