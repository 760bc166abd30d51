// Mystikos's TEE-aware system calls (include/myst/tee.h), and the private
// call that ends a program function the kernel called
// (kernel/syscalls/tee.cpp, kernel/program_call.h). Format: see README.md.
#pragma once

#include "include/myst/tee.h"
#include "kernel/program_call.h"

#define MYST_TEE_SYSCALLS(X)                                           \
    X(myst_gen_creds, sys_myst_gen_creds, "pppp", partial)             \
    X(myst_free_creds, sys_myst_free_creds, "pxpx", supported)         \
    X(myst_verify_cert, sys_myst_verify_cert, "pxpp", partial)         \
    X(myst_gen_creds_ex, sys_myst_gen_creds_ex, "pppppp", partial)     \
    X(myst_free_creds_ex, sys_myst_free_creds_ex, "pxpxpx", supported) \
    X(myst_program_call_return, sys_myst_program_call_return, "d", supported)
