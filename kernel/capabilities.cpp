#include "kernel/capabilities.h"

#include <linux/capability.h>

namespace myst::kernel {

namespace {

// The capabilities that follow the filesystem uid (Linux's CAP_FS_SET).
constexpr uint64_t fs_capabilities = (1ull << CAP_CHOWN) | (1ull << CAP_MKNOD) |
                                     (1ull << CAP_DAC_OVERRIDE) | (1ull << CAP_DAC_READ_SEARCH) |
                                     (1ull << CAP_FOWNER) | (1ull << CAP_FSETID) |
                                     (1ull << CAP_MAC_OVERRIDE);

}  // namespace

void fix_capabilities_after_setuid(Credentials& credentials, const Credentials& old) {
    bool had_root = old.uid == 0 || old.euid == 0 || old.suid == 0;
    bool has_root = credentials.uid == 0 || credentials.euid == 0 || credentials.suid == 0;
    if (had_root && !has_root)
        credentials.cap_permitted = credentials.cap_effective = 0;
    if (old.euid == 0 && credentials.euid != 0)
        credentials.cap_effective = 0;
    if (old.euid != 0 && credentials.euid == 0)
        credentials.cap_effective = credentials.cap_permitted;
}

void fix_capabilities_after_setfsuid(Credentials& credentials, const Credentials& old) {
    if (old.fsuid == 0 && credentials.fsuid != 0)
        credentials.cap_effective &= ~fs_capabilities;
    if (old.fsuid != 0 && credentials.fsuid == 0)
        credentials.cap_effective |= credentials.cap_permitted & fs_capabilities;
}

void capabilities_at_exec(Credentials& credentials) {
    if (credentials.uid == 0 || credentials.euid == 0) {
        credentials.cap_permitted = kAllCapabilities;
        credentials.cap_effective = credentials.euid == 0 ? kAllCapabilities : 0;
    } else {
        credentials.cap_permitted = credentials.cap_effective = 0;
    }
}

}  // namespace myst::kernel
