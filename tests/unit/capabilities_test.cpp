// The capability transitions of kernel/capabilities.h, as capabilities(7)
// describes them for setuid-family calls and execve.
#include "kernel/capabilities.h"

#include <linux/capability.h>

#include <gtest/gtest.h>

namespace myst::kernel {
namespace {

Credentials with_uids(uid_t real, uid_t effective, uid_t saved) {
    Credentials c;
    c.uid = real, c.euid = effective, c.suid = saved, c.fsuid = effective;
    return c;
}

TEST(CapabilitiesTest, RootStartsWithEveryCapability) {
    Credentials root;
    EXPECT_EQ(root.cap_permitted, kAllCapabilities);
    EXPECT_EQ(root.cap_effective, kAllCapabilities);
    EXPECT_TRUE(capable(root, CAP_SYS_ADMIN));
    EXPECT_TRUE(capable(root, CAP_CHECKPOINT_RESTORE));
    EXPECT_FALSE(capable(root, kLastCapability + 1));
}

TEST(CapabilitiesTest, LeavingRootForGoodClearsPermittedAndEffective) {
    Credentials old = with_uids(0, 0, 0);
    Credentials now = old;
    now.uid = now.euid = now.suid = 1000;
    fix_capabilities_after_setuid(now, old);
    EXPECT_EQ(now.cap_permitted, 0u);
    EXPECT_EQ(now.cap_effective, 0u);
}

TEST(CapabilitiesTest, EffectiveUidFollowsWhileSavedRootRemains) {
    Credentials old = with_uids(0, 0, 0);
    Credentials dropped = old;
    dropped.euid = 1000;  // seteuid(1000): the saved uid stays 0
    fix_capabilities_after_setuid(dropped, old);
    EXPECT_EQ(dropped.cap_permitted, kAllCapabilities);
    EXPECT_EQ(dropped.cap_effective, 0u);
    Credentials back = dropped;
    back.euid = 0;
    fix_capabilities_after_setuid(back, dropped);
    EXPECT_EQ(back.cap_effective, kAllCapabilities);
}

TEST(CapabilitiesTest, FsuidMovesTheFileSystemCapabilities) {
    Credentials old;
    Credentials now = old;
    now.fsuid = 1000;
    fix_capabilities_after_setfsuid(now, old);
    EXPECT_FALSE(capable(now, CAP_DAC_OVERRIDE));
    EXPECT_FALSE(capable(now, CAP_CHOWN));
    EXPECT_TRUE(capable(now, CAP_SYS_ADMIN));
    Credentials back = now;
    back.fsuid = 0;
    fix_capabilities_after_setfsuid(back, now);
    EXPECT_EQ(back.cap_effective, kAllCapabilities);
}

TEST(CapabilitiesTest, ExecGivesRootItsCapabilitiesBack) {
    Credentials root;
    root.cap_permitted = root.cap_effective = 1ull << CAP_KILL;
    capabilities_at_exec(root);
    EXPECT_EQ(root.cap_permitted, kAllCapabilities);
    EXPECT_EQ(root.cap_effective, kAllCapabilities);

    Credentials real_root = with_uids(0, 1000, 1000);
    capabilities_at_exec(real_root);
    EXPECT_EQ(real_root.cap_permitted, kAllCapabilities);
    EXPECT_EQ(real_root.cap_effective, 0u);

    Credentials user = with_uids(1000, 1000, 1000);
    capabilities_at_exec(user);
    EXPECT_EQ(user.cap_permitted, 0u);
    EXPECT_EQ(user.cap_effective, 0u);
}

}  // namespace
}  // namespace myst::kernel
