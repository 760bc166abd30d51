// capabilities(7) as the kernel keeps them in a process's Credentials: root
// starts with every capability, and the set follows its ids the way Linux's
// commoncap does when a setuid-family call or execve changes them.
#pragma once

#include "kernel/process.h"

namespace myst::kernel {

// Whether the process's effective set holds `capability` (CAP_*).
inline bool capable(const Credentials& credentials, int capability) {
    return (credentials.cap_effective >> capability) & 1;
}

// setuid/setreuid/setresuid moved the uids from `old` to `credentials`:
// leaving uid 0 for good clears the permitted and effective sets, leaving
// effective uid 0 clears the effective set, and regaining it restores the
// effective set from the permitted one (capabilities(7), "Effect of user
// ID changes on capabilities").
void fix_capabilities_after_setuid(Credentials& credentials, const Credentials& old);

// setfsuid moved the filesystem uid: leaving 0 drops the file-system
// capabilities from the effective set, returning to 0 raises the permitted ones.
void fix_capabilities_after_setfsuid(Credentials& credentials, const Credentials& old);

// execve(2) of a file without file capabilities: root (real or effective
// uid 0) gets every capability again (effective ones only with effective
// uid 0); anyone else gets none.
void capabilities_at_exec(Credentials& credentials);

}  // namespace myst::kernel
