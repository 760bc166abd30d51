// The memory manager's answers to hostile lengths and addresses (the
// hardening issue): a break that would wrap, munmap/mprotect lengths that
// wrap, MAP_FIXED from the program outside the region, the guard gap below
// the stack, heap pages under mprotect, and the host-readable vDSO range.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include "kernel/memory_manager.h"
#include "target/linux_target.h"
#include "tests/unit/memory_test_helpers.h"

namespace myst::kernel {
namespace {

using test::error_code;
using test::MiB;
using test::rw;

class MemoryManagerHardeningTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto created = MemoryManager::create(m_target, 8 * MiB);
        ASSERT_FALSE(created.is_error()) << created.error().message();
        m_memory = created.release_value();
    }
    uint64_t map(uint64_t length, int protection = rw, std::string name = "") {
        auto mapped = m_memory->map_anywhere(length, protection, std::move(name));
        EXPECT_FALSE(mapped.is_error()) << mapped.error().message();
        return mapped.is_error() ? 0 : mapped.value();
    }

    LinuxTarget m_target;
    std::unique_ptr<MemoryManager> m_memory;
};

// brk(-1) used to round up to 0 and "shrink" the heap over everything below
// it, myst's own heap included.
TEST_F(MemoryManagerHardeningTest, BreakThatWouldWrapKeepsTheOldBreak) {
    uint64_t start = m_memory->region_start();
    ASSERT_EQ(m_memory->set_break(start + page_size), start + page_size);
    for (uint64_t wild : {~uint64_t(0), ~uint64_t(0) - page_size + 2, uint64_t(1) << 63})
        EXPECT_EQ(m_memory->set_break(wild), start + page_size) << std::hex << wild;
    EXPECT_TRUE(m_memory->is_accessible(start, page_size, true));
    EXPECT_EQ(m_memory->committed_bytes(), page_size);
}

TEST_F(MemoryManagerHardeningTest, HeapPagesCanBeProtectedAndUnmapped) {
    uint64_t start = m_memory->region_start();
    ASSERT_EQ(m_memory->set_break(start + 3 * page_size), start + 3 * page_size);
    ASSERT_FALSE(m_memory->protect(start + page_size, page_size, PROT_READ).is_error());
    EXPECT_TRUE(m_memory->is_accessible(start, 3 * page_size, false));
    EXPECT_FALSE(m_memory->is_accessible(start + page_size, 1, true));
    EXPECT_TRUE(m_memory->is_accessible(start + 2 * page_size, page_size, true));
    // Growing past a protected piece adds writable pages; shrinking drops all.
    ASSERT_EQ(m_memory->set_break(start + 4 * page_size), start + 4 * page_size);
    EXPECT_TRUE(m_memory->is_accessible(start + 2 * page_size, 2 * page_size, true));
    EXPECT_EQ(m_memory->committed_bytes(), 4 * page_size);
    EXPECT_NE(m_memory->format_maps().find("[heap]"), std::string::npos);
    ASSERT_FALSE(m_memory->unmap(start + 3 * page_size, page_size).is_error());
    EXPECT_FALSE(m_memory->is_accessible(start + 3 * page_size, 1, false));
    EXPECT_EQ(m_memory->set_break(start), start);
    EXPECT_EQ(m_memory->committed_bytes(), 0u);
    EXPECT_EQ(m_memory->set_break(start + 2 * page_size), start + 2 * page_size);
    EXPECT_TRUE(m_memory->is_accessible(start, 2 * page_size, true));
}

TEST_F(MemoryManagerHardeningTest, WrappingLengthsAreRefused) {
    uint64_t block = map(2 * page_size);
    EXPECT_EQ(error_code(m_memory->unmap(block, -page_size)), EINVAL);
    EXPECT_EQ(error_code(m_memory->unmap(block, ~uint64_t(0))), EINVAL);
    EXPECT_EQ(error_code(m_memory->unmap(block, 0)), EINVAL);
    EXPECT_EQ(error_code(m_memory->unmap(user_address_end - page_size, 2 * page_size)), EINVAL);
    EXPECT_EQ(error_code(m_memory->protect(block, -page_size, PROT_READ)), ENOMEM);
    EXPECT_EQ(error_code(m_memory->protect(block, ~uint64_t(0), PROT_READ)), ENOMEM);
    EXPECT_FALSE(m_memory->protect(block, 0, PROT_READ).is_error());
    EXPECT_EQ(error_code(m_memory->map_anywhere(~uint64_t(0), rw, "")), EINVAL);
    EXPECT_EQ(error_code(m_memory->mapping_containing(block, ~uint64_t(0))), EFAULT);
    EXPECT_TRUE(m_memory->is_accessible(block, 2 * page_size, true));
}

// The program's MAP_FIXED takes no host memory outside the region: that
// would grow myst past its budget or land on the kernel's own pages.
TEST_F(MemoryManagerHardeningTest, ProgramFixedMappingsStayInTheRegion) {
    uint64_t host = reinterpret_cast<uint64_t>(
        ::mmap(nullptr, 4 * page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ::munmap(reinterpret_cast<void*>(host), 4 * page_size);
    EXPECT_EQ(error_code(m_memory->map_fixed_for_program(host, page_size, rw, true)), ENOMEM);
    EXPECT_EQ(error_code(m_memory->map_fixed_for_program(host, page_size, rw, false)), ENOMEM);
    EXPECT_EQ(error_code(m_memory->map_fixed_for_program(page_size, page_size, rw, true)), EPERM);
    EXPECT_EQ(error_code(m_memory->map_fixed_for_program(user_address_end, page_size, rw, true)),
              ENOMEM);
    EXPECT_EQ(error_code(m_memory->map_fixed_for_program(m_memory->region_end() - page_size,
                                                         2 * page_size, rw, true)),
              ENOMEM);
    EXPECT_EQ(error_code(m_memory->map_fixed_for_program(host + 1, page_size, rw, true)), EINVAL);
    EXPECT_EQ(error_code(m_memory->map_fixed_for_program(host, ~uint64_t(0), rw, true)), EINVAL);
    // Inside the region, as Linux.
    uint64_t inside = m_memory->region_end() - 2 * page_size;
    auto mapped = m_memory->map_fixed_for_program(inside, page_size, rw, true);
    ASSERT_FALSE(mapped.is_error()) << mapped.error().message();
    EXPECT_EQ(mapped.value(), inside);
    // Over pages the loader placed outside the region (a fixed-address
    // image), which costs nothing more.
    ASSERT_FALSE(m_memory->map_fixed(host, 2 * page_size, rw, "/bin/fixed", false).is_error());
    EXPECT_FALSE(m_memory->map_fixed_for_program(host, page_size, PROT_READ, true).is_error());
    EXPECT_EQ(error_code(m_memory->map_fixed_for_program(host, 3 * page_size, rw, true)), ENOMEM);
}

TEST_F(MemoryManagerHardeningTest, NothingIsPlacedInTheGuardGapBelowTheStack) {
    uint64_t stack = map(4 * page_size, rw, stack_mapping_name);
    uint64_t below = map(page_size);
    EXPECT_LE(below + page_size, stack - stack_guard_gap);
    // Filling the rest still leaves the gap alone.
    while (true) {
        auto more = m_memory->map_anywhere(page_size, rw, "");
        if (more.is_error())
            break;
        EXPECT_TRUE(more.value() + page_size <= stack - stack_guard_gap || more.value() > stack);
    }
    EXPECT_FALSE(m_memory->is_accessible(stack - page_size, 1, false));
    // MAP_FIXED may still go there, as on Linux.
    EXPECT_FALSE(
        m_memory->map_fixed_for_program(stack - page_size, page_size, rw, false).is_error());
}

TEST_F(MemoryManagerHardeningTest, AccessibleLengthStopsAtTheFirstBadPage) {
    uint64_t block = map(3 * page_size);
    ASSERT_FALSE(m_memory->unmap(block + 2 * page_size, page_size).is_error());
    ASSERT_FALSE(m_memory->protect(block + page_size, page_size, PROT_READ).is_error());
    EXPECT_EQ(m_memory->accessible_length(block + 100, 3 * page_size, false), 2 * page_size - 100);
    EXPECT_EQ(m_memory->accessible_length(block + 100, 3 * page_size, true), page_size - 100);
    EXPECT_EQ(m_memory->accessible_length(block + 2 * page_size, 10, false), 0u);
    EXPECT_EQ(m_memory->accessible_length(block, ~uint64_t(0), false), 2 * page_size);
    EXPECT_TRUE(m_memory->is_mapped(block, 2 * page_size));
    EXPECT_FALSE(m_memory->is_mapped(block, 3 * page_size));
}

TEST_F(MemoryManagerHardeningTest, HostReadableRangeIsReadOnly) {
    uint64_t host = reinterpret_cast<uint64_t>(
        ::mmap(nullptr, 2 * page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    EXPECT_FALSE(m_memory->is_accessible(host, page_size, false));
    m_memory->add_host_readable(host, 2 * page_size);
    EXPECT_TRUE(m_memory->is_accessible(host, 2 * page_size, false));
    EXPECT_FALSE(m_memory->is_accessible(host, 2 * page_size + 1, false));
    EXPECT_FALSE(m_memory->is_accessible(host, 1, true));
    EXPECT_TRUE(m_memory->is_mapped(host + page_size, page_size));
    ::munmap(reinterpret_cast<void*>(host), 2 * page_size);
}

}  // namespace
}  // namespace myst::kernel
