// Parking process images (MemoryManager::park_space, kernel/memory_image.h)
// on the real linux target: a switch moves the pages out and back; without
// room in the region for the moved ranges it copies the resident bytes; a
// fork keeps the pages for the child; parked ranges stay free of others.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>

#include "kernel/memory_manager.h"
#include "target/linux_target.h"
#include "tests/unit/memory_test_helpers.h"

namespace myst::kernel {
namespace {

using test::error_code;
using test::MiB;
using test::rw;

constexpr SpaceId image_space = 2;
constexpr SpaceId other_space = 3;

class MemoryParkTest : public ::testing::Test {
protected:
    void start(uint64_t region) {
        auto created = MemoryManager::create(m_target, region);
        ASSERT_FALSE(created.is_error()) << created.error().message();
        m_memory = created.release_value();
    }
    // A mapping of the image with a pattern in its first and last pages.
    uint64_t map_with_pattern(uint64_t length, char pattern) {
        auto mapped = m_memory->map_anywhere(length, rw, "", image_space);
        EXPECT_FALSE(mapped.is_error());
        auto* bytes = reinterpret_cast<char*>(mapped.value());
        std::memset(bytes, pattern, page_size);
        std::memset(bytes + length - page_size, pattern, page_size);
        return mapped.value();
    }
    void expect_pattern(uint64_t address, uint64_t length, char pattern) {
        auto* bytes = reinterpret_cast<const char*>(address);
        EXPECT_EQ(bytes[0], pattern);
        EXPECT_EQ(bytes[page_size - 1], pattern);
        EXPECT_EQ(bytes[length - 1], pattern);
        EXPECT_EQ(bytes[page_size], length > 2 * page_size ? 0 : pattern);
    }

    LinuxTarget m_target;
    std::unique_ptr<MemoryManager> m_memory;
};

TEST_F(MemoryParkTest, ASwitchMovesThePagesOutAndBack) {
    start(64 * MiB);
    uint64_t address = map_with_pattern(4 * MiB, 'a');
    ASSERT_EQ(m_memory->protect(address + 4 * MiB - page_size, page_size, PROT_READ).is_error(),
              false);
    auto parked = m_memory->park_space(image_space, false);
    ASSERT_FALSE(parked.is_error());
    EXPECT_FALSE(m_memory->is_mapped(address, page_size));
    EXPECT_EQ(m_memory->format_maps(image_space), "");
    m_memory->unpark_space(parked.value());
    expect_pattern(address, 4 * MiB, 'a');
    EXPECT_TRUE(m_memory->is_accessible(address, page_size, true));
    EXPECT_FALSE(m_memory->is_accessible(address + 4 * MiB - page_size, page_size, true));
}

TEST_F(MemoryParkTest, WithoutRoomToMoveTheBytesAreCopied) {
    // 3 of 4 MiB mapped: no room for a moved copy, room for its two pages.
    start(4 * MiB);
    uint64_t address = map_with_pattern(3 * MiB, 'b');
    auto parked = m_memory->park_space(image_space, false);
    ASSERT_FALSE(parked.is_error()) << parked.error().message();
    EXPECT_FALSE(m_memory->is_mapped(address, page_size));
    m_memory->unpark_space(parked.value());
    expect_pattern(address, 3 * MiB, 'b');
}

TEST_F(MemoryParkTest, AForkKeepsThePagesForTheChild) {
    start(64 * MiB);
    uint64_t address = map_with_pattern(MiB, 'p');
    auto parked = m_memory->park_space(image_space, true);
    ASSERT_FALSE(parked.is_error());
    expect_pattern(address, MiB, 'p');
    std::memset(reinterpret_cast<char*>(address), 'c', MiB);  // the child writes
    m_memory->vacate_space(image_space);                      // and ends
    m_memory->unpark_space(parked.value());
    expect_pattern(address, MiB, 'p');
}

TEST_F(MemoryParkTest, ParkedRangesStayFreeOfOtherSpaces) {
    start(16 * MiB);
    uint64_t address = map_with_pattern(2 * MiB, 'r');
    auto parked = m_memory->park_space(image_space, false);
    ASSERT_FALSE(parked.is_error());
    for (int i = 0; i < 8; ++i) {
        auto other = m_memory->map_anywhere(MiB, rw, "", other_space);
        if (other.is_error())
            break;
        EXPECT_TRUE(other.value() + MiB <= address || other.value() >= address + 2 * MiB);
    }
    EXPECT_EQ(
        error_code(m_memory->map_fixed_for_program(address, page_size, rw, true, other_space)),
        ENOMEM);
    // Once the parked copy is gone, the range is free again.
    m_memory->forget_parked(parked.value());
    EXPECT_FALSE(
        m_memory->map_fixed_for_program(address, page_size, rw, false, other_space).is_error());
}

}  // namespace
}  // namespace myst::kernel
