// The program's memory (kernel/memory_manager.h) on the real linux target:
// placement inside the region, zero-filled writable pages, the budget
// (ENOMEM) and its reuse, MAP_FIXED rules, partial munmap and mprotect,
// brk, /proc/self/maps text and the committed total.
#include "kernel/memory_manager.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <vector>

#include "target/linux_target.h"
#include "tests/unit/memory_test_helpers.h"

namespace myst::kernel {
namespace {

using test::error_code;
using test::MiB;
using test::rw;

struct MapsLine {
    uint64_t start = 0, end = 0;
    std::string permissions;
    uint64_t offset = 0;
    std::string name;
    size_t name_column = 0;  // where the name starts in the line (0: no name)
};

// Parses /proc/self/maps text back; fails the test on a malformed line.
std::vector<MapsLine> parse_maps(const std::string& text) {
    std::vector<MapsLine> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        MapsLine parsed;
        char permissions[5] = {};
        unsigned major = 99, minor = 99;
        unsigned long inode = 99;
        int consumed = 0;
        int fields =
            std::sscanf(line.c_str(), "%lx-%lx %4s %lx %x:%x %lu%n", &parsed.start, &parsed.end,
                        permissions, &parsed.offset, &major, &minor, &inode, &consumed);
        EXPECT_EQ(fields, 7) << line;
        EXPECT_EQ(major, 0u) << line;
        EXPECT_EQ(minor, 0u) << line;
        EXPECT_EQ(inode, 0u) << line;
        parsed.permissions = permissions;
        size_t name = line.find_first_not_of(' ', static_cast<size_t>(consumed));
        if (name != std::string::npos) {
            parsed.name = line.substr(name);
            parsed.name_column = name;
        }
        lines.push_back(parsed);
    }
    return lines;
}

const MapsLine* find_line(const std::vector<MapsLine>& lines, uint64_t address) {
    for (const MapsLine& line : lines)
        if (line.start <= address && address < line.end)
            return &line;
    return nullptr;
}

// An address range the host has free right now (reserved, then released).
uint64_t free_host_range(uint64_t size) {
    void* probe = ::mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(probe, MAP_FAILED);
    ::munmap(probe, size);
    return reinterpret_cast<uint64_t>(probe);
}

// Whether the host has any page mapped in [address, address+size).
bool host_mapped(uint64_t address, uint64_t size) {
    std::vector<unsigned char> residency(size / page_size);
    return ::mincore(reinterpret_cast<void*>(address), size, residency.data()) == 0;
}

class MemoryManagerTest : public ::testing::Test {
protected:
    void make(uint64_t size) {
        auto created = MemoryManager::create(m_target, size);
        ASSERT_FALSE(created.is_error()) << created.error().message();
        m_memory = created.release_value();
    }
    void SetUp() override { make(4 * MiB); }

    uint64_t map(uint64_t length, int protection = rw, std::string name = "") {
        auto mapped = m_memory->map_anywhere(length, protection, std::move(name));
        EXPECT_FALSE(mapped.is_error()) << mapped.error().message();
        return mapped.is_error() ? 0 : mapped.value();
    }
    bool inside(uint64_t address, uint64_t length) const {
        return address >= m_memory->region_start() && address + length <= m_memory->region_end();
    }

    LinuxTarget m_target;
    std::unique_ptr<MemoryManager> m_memory;
};

TEST_F(MemoryManagerTest, CreateRejectsTinyRegions) {
    EXPECT_EQ(error_code(MemoryManager::create(m_target, 4096)), EINVAL);
    auto rounded = MemoryManager::create(m_target, MiB + 1);
    ASSERT_FALSE(rounded.is_error());
    EXPECT_EQ(rounded.value()->region_end() - rounded.value()->region_start(), MiB + page_size);
    EXPECT_EQ(rounded.value()->region_start() % page_size, 0u);
}

TEST_F(MemoryManagerTest, MapAnywhereGivesZeroedWritablePagesInTheRegion) {
    EXPECT_EQ(m_memory->region_end() - m_memory->region_start(), 4 * MiB);
    EXPECT_EQ(m_memory->committed_bytes(), 0u);
    EXPECT_EQ(error_code(m_memory->map_anywhere(0, rw, "")), EINVAL);

    uint64_t address = map(3 * page_size + 1);  // rounded up to 4 pages
    ASSERT_NE(address, 0u);
    EXPECT_EQ(address % page_size, 0u);
    EXPECT_TRUE(inside(address, 4 * page_size));
    // Top-down, as Linux places mmap.
    EXPECT_EQ(address + 4 * page_size, m_memory->region_end());
    auto* bytes = reinterpret_cast<uint8_t*>(address);
    EXPECT_TRUE(std::all_of(bytes, bytes + 4 * page_size, [](uint8_t b) { return b == 0; }));
    std::memset(bytes, 0xa5, 4 * page_size);
    EXPECT_EQ(bytes[4 * page_size - 1], 0xa5);
    EXPECT_TRUE(m_memory->is_accessible(address, 4 * page_size, true));
    EXPECT_FALSE(m_memory->is_accessible(address, 4 * page_size + 1, false));
    EXPECT_EQ(m_memory->committed_bytes(), 4 * page_size);

    // Pages that were used and given back come back zeroed.
    ASSERT_FALSE(m_memory->unmap(address, 4 * page_size).is_error());
    EXPECT_FALSE(m_memory->is_accessible(address, 1, false));
    uint64_t again = map(4 * page_size);
    EXPECT_EQ(again, address);
    bytes = reinterpret_cast<uint8_t*>(again);
    EXPECT_TRUE(std::all_of(bytes, bytes + 4 * page_size, [](uint8_t b) { return b == 0; }));
}

TEST_F(MemoryManagerTest, AllocationsNeverOverlap) {
    struct Range {
        uint64_t start, end;
    };
    std::vector<Range> ranges;
    const uint64_t sizes[] = {1, 4096, 8192, 12288, 5000, 65536, 4096, 3 * 4096 + 7};
    for (int round = 0; round < 4; ++round)
        for (uint64_t size : sizes) {
            uint64_t address = map(size);
            ASSERT_NE(address, 0u);
            ranges.push_back({address, address + page_align_up(size)});
            // Mark each range so that an overlap would also show in the contents.
            std::memset(reinterpret_cast<void*>(address), static_cast<int>(ranges.size()),
                        page_align_up(size));
        }
    // Free every other one, then fill the holes again.
    for (size_t i = 0; i < ranges.size(); i += 2)
        ASSERT_FALSE(m_memory->unmap(ranges[i].start, ranges[i].end - ranges[i].start).is_error());
    std::vector<Range> live;
    for (size_t i = 1; i < ranges.size(); i += 2)
        live.push_back(ranges[i]);
    for (uint64_t size : sizes) {
        uint64_t address = map(size);
        ASSERT_NE(address, 0u);
        live.push_back({address, address + page_align_up(size)});
    }
    std::sort(live.begin(), live.end(),
              [](const Range& a, const Range& b) { return a.start < b.start; });
    uint64_t total = 0;
    for (size_t i = 0; i < live.size(); ++i) {
        EXPECT_TRUE(inside(live[i].start, live[i].end - live[i].start));
        if (i > 0) {
            EXPECT_LE(live[i - 1].end, live[i].start)
                << "overlap at 0x" << std::hex << live[i].start;
        }
        total += live[i].end - live[i].start;
    }
    // The survivors still hold their marks.
    for (size_t i = 1; i < ranges.size(); i += 2)
        EXPECT_EQ(*reinterpret_cast<uint8_t*>(ranges[i].end - 1), static_cast<uint8_t>(i + 1));
    EXPECT_EQ(m_memory->committed_bytes(), total);
}

TEST_F(MemoryManagerTest, RunningOutOfTheBudgetIsEnomem) {
    EXPECT_EQ(error_code(m_memory->map_anywhere(8 * MiB, rw, "")), ENOMEM);
    EXPECT_EQ(error_code(m_memory->map_anywhere(4 * MiB + page_size, rw, "")), ENOMEM);

    std::vector<uint64_t> blocks;
    for (int i = 0; i < 100; ++i) {
        auto mapped = m_memory->map_anywhere(MiB, rw, "");
        if (mapped.is_error()) {
            EXPECT_EQ(mapped.error().code(), ENOMEM);
            EXPECT_NE(mapped.error().message().find("--memory-size"), std::string::npos);
            break;
        }
        blocks.push_back(mapped.value());
    }
    ASSERT_EQ(blocks.size(), 4u);  // exactly the budget
    EXPECT_EQ(m_memory->committed_bytes(), 4 * MiB);
    EXPECT_EQ(error_code(m_memory->map_anywhere(page_size, rw, "")), ENOMEM);
    // The break cannot grow into the full region either.
    uint64_t start = m_memory->region_start();
    EXPECT_EQ(m_memory->set_break(start + page_size), start);

    // A freed block is usable again, at the same place; a larger one is not.
    ASSERT_FALSE(m_memory->unmap(blocks[2], MiB).is_error());
    EXPECT_EQ(error_code(m_memory->map_anywhere(MiB + page_size, rw, "")), ENOMEM);
    auto reused = m_memory->map_anywhere(MiB, rw, "");
    ASSERT_FALSE(reused.is_error()) << reused.error().message();
    EXPECT_EQ(reused.value(), blocks[2]);

    // Half of one block freed: two smaller maps fit in it.
    ASSERT_FALSE(m_memory->unmap(blocks[0] + MiB / 2, MiB / 2).is_error());
    EXPECT_EQ(map(MiB / 4), blocks[0] + 3 * MiB / 4);
    EXPECT_EQ(map(MiB / 4), blocks[0] + MiB / 2);
    EXPECT_EQ(error_code(m_memory->map_anywhere(page_size, rw, "")), ENOMEM);
}

TEST_F(MemoryManagerTest, MapFixedInsideTheRegion) {
    uint64_t block = map(4 * page_size, rw, "block");
    std::memset(reinterpret_cast<void*>(block), 0x11, 4 * page_size);

    // replace=false on a taken range: EEXIST, nothing changes.
    EXPECT_EQ(error_code(m_memory->map_fixed(block + page_size, page_size, rw, "new", false)),
              EEXIST);
    EXPECT_EQ(*reinterpret_cast<uint8_t*>(block + page_size), 0x11);

    // replace=true: the middle page is new (zeroed, read-only), the rest kept.
    auto replaced = m_memory->map_fixed(block + page_size, page_size, PROT_READ, "new", true);
    ASSERT_FALSE(replaced.is_error()) << replaced.error().message();
    EXPECT_EQ(replaced.value(), block + page_size);
    EXPECT_EQ(*reinterpret_cast<uint8_t*>(block + page_size), 0);
    EXPECT_EQ(*reinterpret_cast<uint8_t*>(block), 0x11);
    EXPECT_EQ(*reinterpret_cast<uint8_t*>(block + 2 * page_size), 0x11);
    EXPECT_TRUE(m_memory->is_accessible(block, 4 * page_size, false));
    EXPECT_FALSE(m_memory->is_accessible(block, 4 * page_size, true));
    EXPECT_TRUE(m_memory->is_accessible(block + 2 * page_size, 2 * page_size, true));
    EXPECT_EQ(m_memory->committed_bytes(), 4 * page_size);

    auto lines = parse_maps(m_memory->format_maps());
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].start, block);
    EXPECT_EQ(lines[0].end, block + page_size);
    EXPECT_EQ(lines[0].name, "block");
    EXPECT_EQ(lines[1].permissions, "r--p");
    EXPECT_EQ(lines[1].name, "new");
    EXPECT_EQ(lines[2].start, block + 2 * page_size);
    EXPECT_EQ(lines[2].end, block + 4 * page_size);
    EXPECT_EQ(lines[2].name, "block");

    // A free range below: taken as asked, whatever replace says.
    uint64_t below = block - 2 * page_size;
    auto fresh = m_memory->map_fixed(below, 2 * page_size, rw, "", false);
    ASSERT_FALSE(fresh.is_error()) << fresh.error().message();
    EXPECT_EQ(fresh.value(), below);
    EXPECT_TRUE(m_memory->is_accessible(below, 6 * page_size, false));
    // map_anywhere never hands out what map_fixed took.
    uint64_t next = map(page_size);
    EXPECT_EQ(next, below - page_size);

    // Bad requests.
    EXPECT_EQ(error_code(m_memory->map_fixed(below + 1, page_size, rw, "", true)), EINVAL);
    EXPECT_EQ(error_code(m_memory->map_fixed(below, 0, rw, "", true)), EINVAL);
    EXPECT_EQ(
        error_code(m_memory->map_fixed(~uint64_t(0) - page_size + 1, 2 * page_size, rw, "", true)),
        EINVAL);
}

TEST_F(MemoryManagerTest, MapFixedOutsideTheRegion) {
    uint64_t address = free_host_range(4 * page_size);
    ASSERT_FALSE(inside(address, 1));
    auto mapped = m_memory->map_fixed(address, 4 * page_size, rw, "/bin/fixed", false);
    ASSERT_FALSE(mapped.is_error()) << mapped.error().message();
    EXPECT_EQ(mapped.value(), address);
    std::memset(reinterpret_cast<void*>(address), 0x22, 4 * page_size);
    EXPECT_TRUE(m_memory->is_accessible(address, 4 * page_size, true));
    EXPECT_EQ(m_memory->committed_bytes(), 4 * page_size);
    EXPECT_EQ(error_code(m_memory->map_fixed(address, page_size, rw, "", false)), EEXIST);

    // Host memory the manager does not own is never taken over.
    void* host = ::mmap(nullptr, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(host, MAP_FAILED);
    EXPECT_EQ(
        error_code(m_memory->map_fixed(reinterpret_cast<uint64_t>(host), page_size, rw, "", true)),
        EEXIST);
    ::munmap(host, page_size);

    // A range that straddles the region's edge is refused.
    uint64_t edge = m_memory->region_end() - page_size;
    EXPECT_EQ(error_code(m_memory->map_fixed(edge, 2 * page_size, rw, "", false)), ENOMEM);

    // Partial unmap gives the pages back to the host.
    ASSERT_FALSE(m_memory->unmap(address + page_size, page_size).is_error());
    EXPECT_FALSE(host_mapped(address + page_size, page_size));
    EXPECT_TRUE(host_mapped(address, page_size));
    EXPECT_TRUE(m_memory->is_accessible(address + 2 * page_size, 2 * page_size, true));
    EXPECT_EQ(m_memory->committed_bytes(), 3 * page_size);
    ASSERT_FALSE(m_memory->unmap(address, 4 * page_size).is_error());
    EXPECT_FALSE(host_mapped(address, 4 * page_size));
    EXPECT_EQ(m_memory->committed_bytes(), 0u);
}

// MAP_FIXED (replace) over the manager's own out-of-region mapping must
// replace it, as Linux does, not fail with the tracking dropped.
TEST_F(MemoryManagerTest, MapFixedReplacesAnOutOfRegionMapping) {
    uint64_t address = free_host_range(3 * page_size);
    ASSERT_FALSE(m_memory->map_fixed(address, 3 * page_size, rw, "/bin/fixed", false).is_error());
    std::memset(reinterpret_cast<void*>(address), 0x33, 3 * page_size);

    auto replaced = m_memory->map_fixed(address + page_size, page_size, PROT_READ, "", true);
    ASSERT_FALSE(replaced.is_error()) << replaced.error().message();
    EXPECT_EQ(*reinterpret_cast<uint8_t*>(address + page_size), 0);
    EXPECT_EQ(*reinterpret_cast<uint8_t*>(address), 0x33);
    EXPECT_EQ(*reinterpret_cast<uint8_t*>(address + 2 * page_size), 0x33);
    EXPECT_TRUE(m_memory->is_accessible(address, 3 * page_size, false));
    EXPECT_FALSE(m_memory->is_accessible(address + page_size, 1, true));
    EXPECT_EQ(m_memory->committed_bytes(), 3 * page_size);
    ASSERT_FALSE(m_memory->unmap(address, 3 * page_size).is_error());
    EXPECT_FALSE(host_mapped(address, 3 * page_size));
}

// A MAP_FIXED that is refused must leave what was mapped there alone.
TEST_F(MemoryManagerTest, RefusedMapFixedKeepsExistingMappings) {
    uint64_t top = map(page_size, rw, "top");  // the region's last page
    ASSERT_EQ(top + page_size, m_memory->region_end());
    EXPECT_EQ(error_code(m_memory->map_fixed(top, 2 * page_size, rw, "", true)), ENOMEM);
    EXPECT_TRUE(m_memory->is_accessible(top, page_size, true));
    EXPECT_EQ(m_memory->committed_bytes(), page_size);

    // Over the break too.
    uint64_t start = m_memory->region_start();
    ASSERT_EQ(m_memory->set_break(start + page_size), start + page_size);
    ASSERT_FALSE(m_memory->map_fixed(start + page_size, page_size, rw, "low", false).is_error());
    EXPECT_EQ(error_code(m_memory->map_fixed(start, 2 * page_size, rw, "", true)), ENOMEM);
    EXPECT_TRUE(m_memory->is_accessible(start + page_size, page_size, true));
    EXPECT_EQ(m_memory->committed_bytes(), 3 * page_size);
    EXPECT_NE(m_memory->format_maps().find("low"), std::string::npos);
}

TEST_F(MemoryManagerTest, PartialUnmapSplitsAMapping) {
    uint64_t block = map(5 * page_size, rw, "five");
    std::memset(reinterpret_cast<void*>(block), 0x44, 5 * page_size);
    ASSERT_FALSE(m_memory->unmap(block + page_size, 2 * page_size).is_error());
    EXPECT_TRUE(m_memory->is_accessible(block, page_size, true));
    EXPECT_FALSE(m_memory->is_accessible(block + page_size, 1, false));
    EXPECT_FALSE(m_memory->is_accessible(block + 2 * page_size, 1, false));
    EXPECT_TRUE(m_memory->is_accessible(block + 3 * page_size, 2 * page_size, true));
    EXPECT_FALSE(m_memory->is_accessible(block, 5 * page_size, false));
    EXPECT_EQ(*reinterpret_cast<uint8_t*>(block + 4 * page_size), 0x44);
    EXPECT_EQ(m_memory->committed_bytes(), 3 * page_size);

    auto lines = parse_maps(m_memory->format_maps());
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].start, block);
    EXPECT_EQ(lines[0].end, block + page_size);
    EXPECT_EQ(lines[1].start, block + 3 * page_size);
    EXPECT_EQ(lines[1].end, block + 5 * page_size);
    EXPECT_EQ(lines[1].name, "five");

    // Unmapping a hole, or a range that covers holes, is fine (as Linux).
    EXPECT_FALSE(m_memory->unmap(block + page_size, page_size).is_error());
    EXPECT_FALSE(m_memory->unmap(block, 5 * page_size).is_error());
    EXPECT_EQ(m_memory->committed_bytes(), 0u);
    EXPECT_EQ(m_memory->format_maps(), "");
    EXPECT_EQ(error_code(m_memory->unmap(block + 1, page_size)), EINVAL);
    EXPECT_EQ(error_code(m_memory->unmap(block, 0)), EINVAL);
}

TEST_F(MemoryManagerTest, ProtectChangesAccessAndSplits) {
    uint64_t block = map(4 * page_size, rw, "prot");
    ASSERT_FALSE(m_memory->protect(block + page_size, page_size, PROT_READ).is_error());
    EXPECT_TRUE(m_memory->is_accessible(block + page_size, page_size, false));
    EXPECT_FALSE(m_memory->is_accessible(block + page_size, 1, true));
    EXPECT_TRUE(m_memory->is_accessible(block, page_size, true));
    EXPECT_TRUE(m_memory->is_accessible(block + 2 * page_size, 2 * page_size, true));
    ASSERT_FALSE(m_memory->protect(block + 2 * page_size, page_size, PROT_NONE).is_error());
    EXPECT_FALSE(m_memory->is_accessible(block + 2 * page_size, 1, false));

    auto lines = parse_maps(m_memory->format_maps());
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0].permissions, "rw-p");
    EXPECT_EQ(lines[1].permissions, "r--p");
    EXPECT_EQ(lines[2].permissions, "---p");
    EXPECT_EQ(lines[3].permissions, "rw-p");
    for (const MapsLine& line : lines)
        EXPECT_EQ(line.name, "prot");

    // Back to rw across the pieces: writable again.
    ASSERT_FALSE(m_memory->protect(block, 4 * page_size, rw).is_error());
    EXPECT_TRUE(m_memory->is_accessible(block, 4 * page_size, true));
    reinterpret_cast<uint8_t*>(block)[2 * page_size] = 1;

    // A hole inside the range: ENOMEM, and nothing changed.
    ASSERT_FALSE(m_memory->unmap(block + page_size, page_size).is_error());
    EXPECT_EQ(error_code(m_memory->protect(block, 4 * page_size, PROT_READ)), ENOMEM);
    EXPECT_TRUE(m_memory->is_accessible(block, page_size, true));
    EXPECT_TRUE(m_memory->is_accessible(block + 2 * page_size, 2 * page_size, true));
    // Entirely unmapped, or past the end of a mapping.
    EXPECT_EQ(error_code(m_memory->protect(block + page_size, page_size, PROT_READ)), ENOMEM);
    EXPECT_EQ(error_code(m_memory->protect(block + 3 * page_size, 2 * page_size, PROT_READ)),
              ENOMEM);
    EXPECT_EQ(error_code(m_memory->protect(block + 1, page_size, PROT_READ)), EINVAL);
}

TEST_F(MemoryManagerTest, BreakGrowsShrinksAndStopsAtMappings) {
    uint64_t start = m_memory->region_start();
    EXPECT_EQ(m_memory->set_break(0), start);  // the query brk(0) makes
    EXPECT_EQ(m_memory->set_break(start - 1), start);
    EXPECT_FALSE(m_memory->is_accessible(start, 1, false));

    EXPECT_EQ(m_memory->set_break(start + 10000), start + 10000);
    EXPECT_TRUE(m_memory->is_accessible(start, 3 * page_size, true));  // rounded up to pages
    EXPECT_FALSE(m_memory->is_accessible(start + 3 * page_size, 1, false));
    EXPECT_EQ(m_memory->committed_bytes(), 3 * page_size);
    auto* heap = reinterpret_cast<uint8_t*>(start);
    EXPECT_TRUE(std::all_of(heap, heap + 3 * page_size, [](uint8_t b) { return b == 0; }));
    std::memset(heap, 0x55, 3 * page_size);

    // Shrinking gives pages back; growing again brings zeroed ones.
    EXPECT_EQ(m_memory->set_break(start + page_size), start + page_size);
    EXPECT_FALSE(m_memory->is_accessible(start + page_size, 1, false));
    EXPECT_EQ(m_memory->committed_bytes(), page_size);
    EXPECT_EQ(m_memory->set_break(start + 2 * page_size), start + 2 * page_size);
    EXPECT_EQ(heap[0], 0x55);
    EXPECT_EQ(heap[page_size], 0);

    // map_anywhere stays above the break...
    uint64_t mapped = map(m_memory->region_end() - start - 4 * page_size, rw, "big");
    EXPECT_EQ(mapped, start + 4 * page_size);
    // ...and the break does not grow into a mapping: the old break comes back.
    EXPECT_EQ(m_memory->set_break(start + 4 * page_size), start + 4 * page_size);
    EXPECT_EQ(m_memory->set_break(start + 4 * page_size + 1), start + 4 * page_size);
    EXPECT_EQ(m_memory->set_break(m_memory->region_end() + page_size), start + 4 * page_size);
    EXPECT_TRUE(m_memory->is_accessible(start, 4 * page_size, true));
    EXPECT_EQ(m_memory->committed_bytes(), m_memory->region_end() - start);
    // Nor can a fixed mapping go over the heap.
    EXPECT_EQ(error_code(m_memory->map_fixed(start, page_size, rw, "", true)), ENOMEM);

    // With the mapping gone, the break can use the whole region.
    ASSERT_FALSE(m_memory->unmap(mapped, m_memory->region_end() - mapped).is_error());
    EXPECT_EQ(m_memory->set_break(m_memory->region_end()), m_memory->region_end());
    EXPECT_EQ(m_memory->committed_bytes(), m_memory->region_end() - start);
    EXPECT_EQ(error_code(m_memory->map_anywhere(page_size, rw, "")), ENOMEM);
    EXPECT_EQ(m_memory->set_break(start), start);
    EXPECT_EQ(m_memory->committed_bytes(), 0u);
}

TEST_F(MemoryManagerTest, MapsTextLooksLikeLinux) {
    uint64_t start = m_memory->region_start();
    ASSERT_EQ(m_memory->set_break(start + 2 * page_size), start + 2 * page_size);
    uint64_t stack = map(4 * page_size, rw, "[stack]");
    uint64_t image = map(3 * page_size, rw, "/bin/program");
    ASSERT_FALSE(m_memory->protect(image, page_size, PROT_READ | PROT_EXEC).is_error());
    m_memory->set_name(image, 3 * page_size, "/usr/bin/program", 0x1000);
    uint64_t anonymous = map(page_size, PROT_NONE);

    std::string text = m_memory->format_maps();
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    auto lines = parse_maps(text);
    ASSERT_EQ(lines.size(), 5u) << text;
    // In address order, as Linux lists them.
    for (size_t i = 1; i < lines.size(); ++i)
        EXPECT_LE(lines[i - 1].end, lines[i].start) << text;

    EXPECT_EQ(lines[0].start, start);
    EXPECT_EQ(lines[0].end, start + 2 * page_size);
    EXPECT_EQ(lines[0].permissions, "rw-p");
    EXPECT_EQ(lines[0].name, "[heap]");

    const MapsLine* line = find_line(lines, anonymous);
    ASSERT_NE(line, nullptr);
    EXPECT_EQ(line->permissions, "---p");
    EXPECT_EQ(line->name, "");

    line = find_line(lines, image);
    ASSERT_NE(line, nullptr);
    EXPECT_EQ(line->start, image);
    EXPECT_EQ(line->end, image + page_size);
    EXPECT_EQ(line->permissions, "r-xp");
    EXPECT_EQ(line->offset, 0x1000u);
    EXPECT_EQ(line->name, "/usr/bin/program");
    line = find_line(lines, image + page_size);
    ASSERT_NE(line, nullptr);
    EXPECT_EQ(line->end, image + 3 * page_size);
    EXPECT_EQ(line->permissions, "rw-p");
    EXPECT_EQ(line->offset, 0x2000u);  // the offset follows the split
    EXPECT_EQ(line->name, "/usr/bin/program");

    line = find_line(lines, stack);
    ASSERT_NE(line, nullptr);
    EXPECT_EQ(line->start, stack);
    EXPECT_EQ(line->end, stack + 4 * page_size);
    EXPECT_EQ(line->name, "[stack]");
    EXPECT_EQ(line->offset, 0u);

    // Linux pads names to column 73 (addresses of 8+ hex digits, zero-padded).
    for (const MapsLine& each : lines)
        if (!each.name.empty()) {
            EXPECT_EQ(each.name_column, 73u) << each.name;
        }
    char expected[128];
    std::snprintf(expected, sizeof expected, "%08lx-%08lx rw-p 00000000 00:00 0", start,
                  start + 2 * page_size);
    std::string first = text.substr(0, text.find('\n'));
    EXPECT_EQ(first,
              std::string(expected) + std::string(73 - std::strlen(expected), ' ') + "[heap]");
}

// /proc/self/maps is sorted by address even when a fixed-address image lies
// below the region and the heap is in use.
TEST_F(MemoryManagerTest, MapsAreInAddressOrderWithMappingsBelowTheRegion) {
    uint64_t start = m_memory->region_start();
    ASSERT_EQ(m_memory->set_break(start + page_size), start + page_size);
    // Where non-PIE executables go (0x400000 and up), below the host's mmap area.
    uint64_t below = 0;
    for (uint64_t candidate : {0x400000ull, 0x10000000ull, 0x40000000ull}) {
        if (candidate + 2 * page_size <= start &&
            !m_memory->map_fixed(candidate, 2 * page_size, PROT_READ, "/low", false).is_error()) {
            below = candidate;
            break;
        }
    }
    ASSERT_NE(below, 0u) << "no free low address";
    map(page_size, rw, "high");

    auto lines = parse_maps(m_memory->format_maps());
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].name, "/low");
    EXPECT_EQ(lines[1].name, "[heap]");
    EXPECT_EQ(lines[2].name, "high");
    for (size_t i = 1; i < lines.size(); ++i)
        EXPECT_LE(lines[i - 1].end, lines[i].start);
}

TEST_F(MemoryManagerTest, IsAccessibleEdgeCases) {
    uint64_t block = map(2 * page_size, PROT_READ, "ro");
    EXPECT_TRUE(m_memory->is_accessible(block, 0, true));  // nothing to check
    EXPECT_TRUE(m_memory->is_accessible(block + page_size + 100, page_size - 100, false));
    EXPECT_FALSE(m_memory->is_accessible(block + page_size + 100, page_size - 99, false));
    EXPECT_FALSE(m_memory->is_accessible(block - 1, 2, false));
    EXPECT_FALSE(m_memory->is_accessible(block, 1, true));
    EXPECT_FALSE(m_memory->is_accessible(~uint64_t(0) - 10, 100, false));  // wraps
    EXPECT_FALSE(m_memory->is_accessible(0, 1, false));
    // Two adjacent mappings together are one accessible range.
    ASSERT_FALSE(m_memory->map_fixed(block - page_size, page_size, rw, "", false).is_error());
    EXPECT_TRUE(m_memory->is_accessible(block - page_size, 3 * page_size, false));
    EXPECT_FALSE(m_memory->is_accessible(block - page_size, 3 * page_size, true));
}

TEST_F(MemoryManagerTest, CommittedBytesAddsUp) {
    uint64_t start = m_memory->region_start();
    uint64_t a = map(3 * page_size);
    uint64_t b = map(5 * page_size);
    ASSERT_EQ(m_memory->set_break(start + 2 * page_size - 1), start + 2 * page_size - 1);
    EXPECT_EQ(m_memory->committed_bytes(), 10 * page_size);
    ASSERT_FALSE(m_memory->protect(b, page_size, PROT_NONE).is_error());  // still committed
    EXPECT_EQ(m_memory->committed_bytes(), 10 * page_size);
    ASSERT_FALSE(m_memory->unmap(a + page_size, page_size).is_error());
    EXPECT_EQ(m_memory->committed_bytes(), 9 * page_size);
    ASSERT_FALSE(m_memory->map_fixed(a + page_size, page_size, rw, "", false).is_error());
    EXPECT_EQ(m_memory->committed_bytes(), 10 * page_size);
    ASSERT_FALSE(m_memory->map_fixed(b, 2 * page_size, rw, "", true).is_error());  // replaces
    EXPECT_EQ(m_memory->committed_bytes(), 10 * page_size);
    EXPECT_EQ(m_memory->set_break(start), start);
    EXPECT_EQ(m_memory->committed_bytes(), 8 * page_size);
}

}  // namespace
}  // namespace myst::kernel
