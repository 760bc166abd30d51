// Open files and descriptors: getdents64/getdents record layout and
// resumption, lseek cases, the descriptor table (lowest free, dup2/dup3
// rules, close-on-exec, EMFILE), shared offsets, and POSIX record locks.
#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "base/endian.h"
#include "fs/ramfs/ramfs.h"
#include "fs/vfs/vfs.h"
#include "kernel/fd_table.h"
#include "kernel/fs_context.h"
#include "target/linux_target.h"
#include "tests/unit/fs_test_helpers.h"

namespace myst::fs {
namespace {

using test::error_code;

struct Record {
    uint64_t ino;
    int64_t offset;
    uint16_t size;
    uint8_t type;
    std::string name;
};

// Decodes records independently of the encoder: the layouts of
// getdents64(2) and getdents(2) from the man page.
std::vector<Record> decode(const std::vector<uint8_t>& buffer, size_t used, DirentFormat format) {
    std::vector<Record> records;
    for (size_t at = 0; at < used;) {
        const uint8_t* p = &buffer[at];
        Record record;
        record.ino = load_le<uint64_t>(p);
        record.offset = static_cast<int64_t>(load_le<uint64_t>(p + 8));
        record.size = load_le<uint16_t>(p + 16);
        if (format == DirentFormat::linux_dirent64) {
            record.type = p[18];
            record.name = reinterpret_cast<const char*>(p + 19);
        } else {
            record.name = reinterpret_cast<const char*>(p + 18);
            record.type = p[record.size - 1];
        }
        EXPECT_EQ(record.size % 8, 0u);
        EXPECT_GT(record.size, 0u);
        records.push_back(record);
        at += record.size;
    }
    return records;
}

class FilesTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_vfs = test::vfs_over_ramfs(m_clock);
        ASSERT_TRUE(m_vfs);
        Lookup at = m_vfs->root_lookup();
        ASSERT_FALSE(m_vfs->make_directory(at, "/d", 0755).is_error());
        ASSERT_FALSE(m_vfs->make_directory(at, "/d/subdir", 0755).is_error());
        ASSERT_FALSE(m_vfs->make_symlink("x", at, "/d/link").is_error());
        for (int i = 0; i < 20; ++i) {
            ASSERT_FALSE(test::write_text(*m_vfs, "/d/file" + std::to_string(i), "x").is_error());
        }
    }

    std::shared_ptr<OpenFile> open(const std::string& path, int flags) {
        return test::open_file(*m_vfs, path, flags);
    }

    test::ManualClock m_clock;
    std::unique_ptr<Vfs> m_vfs;
};

TEST_F(FilesTest, Getdents64RecordLayout) {
    auto dir = open("/d", O_RDONLY | O_DIRECTORY);
    std::vector<uint8_t> buffer(8192, 0xee);
    size_t used = dir->read_directory(buffer, DirentFormat::linux_dirent64).value();
    std::vector<Record> records = decode(buffer, used, DirentFormat::linux_dirent64);
    ASSERT_EQ(records.size(), 2u + 22u);
    EXPECT_EQ(records[0].name, ".");
    EXPECT_EQ(records[0].type, DT_DIR);
    EXPECT_EQ(records[0].ino, dir->stat().value().st_ino);
    EXPECT_EQ(records[1].name, "..");
    EXPECT_EQ(records[1].ino, m_vfs->root()->inode()->ino());
    // Name, NUL, padding to 8: "subdir" is 19 + 7 = 26 -> 32 bytes.
    for (const Record& record : records) {
        if (record.name == "subdir") {
            EXPECT_EQ(record.type, DT_DIR);
            EXPECT_EQ(record.size, 32u);
        } else if (record.name == "link") {
            EXPECT_EQ(record.type, DT_LNK);
            EXPECT_EQ(record.size, 24u);
        } else if (record.name.rfind("file", 0) == 0) {
            EXPECT_EQ(record.type, DT_REG);
        }
    }
    for (size_t i = 1; i < records.size(); ++i)
        EXPECT_GT(records[i].offset, records[i - 1].offset);
    EXPECT_EQ(dir->read_directory(buffer, DirentFormat::linux_dirent64).value(), 0u);
    // d_off of a record is where listing resumes after it.
    ASSERT_EQ(dir->seek(records[5].offset, SEEK_SET).value(),
              static_cast<uint64_t>(records[5].offset));
    used = dir->read_directory(buffer, DirentFormat::linux_dirent64).value();
    std::vector<Record> rest = decode(buffer, used, DirentFormat::linux_dirent64);
    ASSERT_EQ(rest.size(), records.size() - 6);
    EXPECT_EQ(rest[0].name, records[6].name);
}

TEST_F(FilesTest, OldGetdentsLayout) {
    auto dir = open("/d", O_RDONLY | O_DIRECTORY);
    std::vector<uint8_t> buffer(8192);
    size_t used = dir->read_directory(buffer, DirentFormat::linux_dirent).value();
    std::vector<Record> records = decode(buffer, used, DirentFormat::linux_dirent);
    ASSERT_EQ(records.size(), 24u);
    for (const Record& record : records) {
        if (record.name == "subdir") {
            EXPECT_EQ(record.type, DT_DIR);
            EXPECT_EQ(record.size, 32u);  // 18 + 6 + NUL + type -> 26 -> 32
        }
        if (record.name == "link") {
            EXPECT_EQ(record.type, DT_LNK);
        }
    }
}

TEST_F(FilesTest, SmallBuffersAndUnlinkBetweenCalls) {
    auto dir = open("/d", O_RDONLY | O_DIRECTORY);
    std::vector<uint8_t> tiny(10);
    EXPECT_EQ(error_code(dir->read_directory(tiny, DirentFormat::linux_dirent64)), EINVAL);
    // Read a few at a time, unlinking as we go (as rm -r does): every
    // original entry is seen exactly once.
    std::vector<uint8_t> small(100);
    std::multiset<std::string> seen;
    for (;;) {
        size_t used = dir->read_directory(small, DirentFormat::linux_dirent64).value();
        if (used == 0)
            break;
        for (const Record& record : decode(small, used, DirentFormat::linux_dirent64)) {
            seen.insert(record.name);
            if (record.name.rfind("file", 0) == 0) {
                ASSERT_FALSE(m_vfs->unlink(m_vfs->root_lookup(), "/d/" + record.name).is_error());
            }
        }
    }
    EXPECT_EQ(seen.size(), 24u);
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 24u);
    EXPECT_EQ(test::list_names(*m_vfs, "/d").value(),
              (std::vector<std::string>{".", "..", "subdir", "link"}));
    EXPECT_EQ(error_code(open("/d/link", O_PATH | O_NOFOLLOW)
                             ->read_directory(small, DirentFormat::linux_dirent64)),
              ENOTDIR);
}

TEST_F(FilesTest, Seek) {
    ASSERT_FALSE(test::write_text(*m_vfs, "/f", "0123456789").is_error());
    auto file = open("/f", O_RDWR);
    EXPECT_EQ(file->seek(-3, SEEK_END).value(), 7u);
    uint8_t byte;
    ASSERT_EQ(file->read({&byte, 1}).value(), 1u);
    EXPECT_EQ(byte, '7');
    EXPECT_EQ(file->seek(2, SEEK_CUR).value(), 10u);
    EXPECT_EQ(file->seek(100, SEEK_SET).value(), 100u);  // past the end is fine
    EXPECT_EQ(file->read({&byte, 1}).value(), 0u);
    EXPECT_EQ(error_code(file->seek(-1, SEEK_SET)), EINVAL);
    EXPECT_EQ(error_code(file->seek(0, 42)), EINVAL);
    EXPECT_EQ(file->seek(4, SEEK_DATA).value(), 4u);
    EXPECT_EQ(file->seek(4, SEEK_HOLE).value(), 10u);
    EXPECT_EQ(error_code(file->seek(10, SEEK_DATA)), ENXIO);
    EXPECT_EQ(error_code(file->seek(INT64_MAX, SEEK_END)), EINVAL);
    EXPECT_FALSE(file->is_stream());
}

TEST_F(FilesTest, DescriptorTable) {
    kernel::FdTable fds;
    auto a = open("/d/file1", O_RDONLY);
    auto b = open("/d/file2", O_RDONLY);
    EXPECT_EQ(fds.allocate(a, false).value(), 0);
    EXPECT_EQ(fds.allocate(b, true).value(), 1);
    EXPECT_EQ(fds.allocate(a, false).value(), 2);
    ASSERT_FALSE(fds.remove(1).is_error());
    EXPECT_EQ(error_code(fds.remove(1)), EBADF);
    EXPECT_EQ(error_code(fds.get(1)), EBADF);
    EXPECT_EQ(error_code(fds.get(-1)), EBADF);
    EXPECT_EQ(fds.allocate(b, false).value(), 1);  // lowest free
    EXPECT_EQ(fds.duplicate(0, 10, false).value(), 10);
    EXPECT_EQ(fds.duplicate(0, 0, false).value(), 3);
    EXPECT_EQ(fds.get(10).value(), a);

    // dup2: the target is closed first; old == new is a no-op that needs old valid.
    std::shared_ptr<OpenFile> replaced;
    EXPECT_EQ(fds.duplicate_to(1, 0, false, &replaced).value(), 0);
    EXPECT_EQ(replaced, a);
    EXPECT_EQ(fds.get(0).value(), b);
    EXPECT_EQ(fds.duplicate_to(1, 1, true).value(), 1);
    EXPECT_FALSE(fds.close_on_exec(1).value());
    EXPECT_EQ(error_code(fds.duplicate_to(50, 51, false)), EBADF);
    EXPECT_EQ(error_code(fds.duplicate_to(1, kernel::FdTable::kDefaultLimit, false)), EBADF);
    EXPECT_EQ(fds.duplicate_to(1, 700, true).value(), 700);
    EXPECT_TRUE(fds.close_on_exec(700).value());

    EXPECT_EQ(fds.open_fds(), (std::vector<int>{0, 1, 2, 3, 10, 700}));
    kernel::FdTable child;
    child.copy_from(fds);
    EXPECT_EQ(child.open_fds(), fds.open_fds());
    EXPECT_EQ(child.get(3).value(), fds.get(3).value());
    fds.close_on_exec_all();
    EXPECT_EQ(fds.open_fds(), (std::vector<int>{0, 1, 2, 3, 10}));
    EXPECT_EQ(child.open_fds().size(), 6u);

    // EMFILE at the limit; F_DUPFD past the limit is EINVAL.
    fds.set_limit(12);
    EXPECT_EQ(fds.allocate(a, false).value(), 4);
    for (int fd = 5; fd < 12; ++fd) {
        if (fd != 10) {
            ASSERT_EQ(fds.allocate(a, false).value(), fd);
        }
    }
    EXPECT_EQ(error_code(fds.allocate(a, false)), EMFILE);
    EXPECT_EQ(error_code(fds.duplicate(0, 12, false)), EINVAL);
    fds.close_all();
    EXPECT_TRUE(fds.open_fds().empty());
}

TEST_F(FilesTest, DuplicatesShareOffsetAndFlags) {
    ASSERT_FALSE(test::write_text(*m_vfs, "/f", "abcdef").is_error());
    kernel::FdTable fds;
    int fd = fds.allocate(open("/f", O_RDONLY), false).value();
    int dup = fds.duplicate(fd, 0, false).value();
    int reopened = fds.allocate(open("/f", O_RDONLY), false).value();
    uint8_t two[2];
    ASSERT_EQ(fds.get(fd).value()->read(two).value(), 2u);
    ASSERT_EQ(fds.get(dup).value()->read(two).value(), 2u);
    EXPECT_EQ(std::string(two, two + 2), "cd");
    ASSERT_EQ(fds.get(reopened).value()->read(two).value(), 2u);
    EXPECT_EQ(std::string(two, two + 2), "ab");
    fds.get(fd).value()->set_status_flags(O_NONBLOCK | O_RDWR);
    EXPECT_EQ(fds.get(dup).value()->flags() & (O_NONBLOCK | O_ACCMODE), O_NONBLOCK | O_RDONLY);
}

TEST_F(FilesTest, RecordLocks) {
    auto file = open("/d/file1", O_RDWR);
    const Inode& inode = *file->inode();
    FileLocks& locks = m_vfs->locks();
    RecordLock first{F_WRLCK, 0, 100, 1};
    ASSERT_FALSE(locks.set(inode, first).is_error());
    // Another owner conflicts; the owner itself never does.
    EXPECT_EQ(error_code(locks.set(inode, {F_RDLCK, 50, 60, 2})), EAGAIN);
    EXPECT_FALSE(locks.set(inode, {F_RDLCK, 50, 60, 1}).is_error());
    auto conflict = locks.find_conflict(inode, {F_RDLCK, 0, UINT64_MAX, 2});
    ASSERT_TRUE(conflict.has_value());
    EXPECT_EQ(conflict->owner, 1);
    // The read lock split the write lock: [50,60) is shared now.
    EXPECT_FALSE(locks.set(inode, {F_RDLCK, 50, 60, 2}).is_error());
    EXPECT_EQ(error_code(locks.set(inode, {F_WRLCK, 55, 56, 2})), EAGAIN);
    // Unlocking a middle range leaves the ends.
    ASSERT_FALSE(locks.set(inode, {F_UNLCK, 0, 50, 1}).is_error());
    EXPECT_FALSE(locks.find_conflict(inode, {F_WRLCK, 0, 50, 2}).has_value());
    EXPECT_TRUE(locks.find_conflict(inode, {F_WRLCK, 60, 61, 2}).has_value());
    // Closing any descriptor of the file drops the owner's locks.
    locks.release(inode, 1);
    EXPECT_FALSE(locks.find_conflict(inode, {F_WRLCK, 0, UINT64_MAX, 3})->owner == 1);
    locks.release_owner(2);
    EXPECT_FALSE(locks.find_conflict(inode, {F_WRLCK, 0, UINT64_MAX, 3}).has_value());
    EXPECT_EQ(error_code(locks.set(inode, {F_WRLCK, 5, 5, 1})), EINVAL);
}

TEST_F(FilesTest, FlockLocks) {
    auto first = open("/d/file1", O_RDONLY);
    auto second = open("/d/file1", O_RDONLY);
    FileLocks& locks = m_vfs->locks();
    const LockKey key = FileLocks::key_of(*first->inode());
    uint32_t before = locks.changes();
    // Shared locks of two descriptions coexist; an exclusive one does not.
    ASSERT_FALSE(locks.flock_lock(key, *first, false).is_error());
    ASSERT_FALSE(locks.flock_lock(key, *second, false).is_error());
    EXPECT_EQ(error_code(locks.flock_lock(key, *second, true)), EWOULDBLOCK);
    // The failed conversion dropped the second description's shared lock.
    EXPECT_NE(locks.changes(), before);
    ASSERT_FALSE(locks.flock_lock(key, *first, true).is_error());
    EXPECT_EQ(error_code(locks.flock_lock(key, *second, false)), EWOULDBLOCK);
    // The lock goes with its description.
    first.reset();
    EXPECT_FALSE(locks.flock_lock(key, *second, true).is_error());
    locks.flock_unlock(key, *second);
    auto third = open("/d/file1", O_RDONLY);
    EXPECT_FALSE(locks.flock_lock(key, *third, true).is_error());
}

TEST_F(FilesTest, FsContext) {
    EXPECT_EQ(error_code(kernel::create_fs_context(*m_vfs, "d")), EINVAL);
    EXPECT_EQ(error_code(kernel::create_fs_context(*m_vfs, "/missing")), ENOENT);
    EXPECT_EQ(error_code(kernel::create_fs_context(*m_vfs, "/d/file1")), ENOTDIR);
    auto created = kernel::create_fs_context(*m_vfs, "/d/subdir/..");
    ASSERT_FALSE(created.is_error());
    std::unique_ptr<kernel::FsContext> context = created.release_value();
    EXPECT_EQ(context->cwd()->to_string(), "/d");
    EXPECT_TRUE(context->root()->same_as(*m_vfs->root()));
    EXPECT_EQ(context->umask(), 022u);
    EXPECT_EQ(context->exchange_umask(0777077), 022u);
    EXPECT_EQ(context->umask(), 077u);

    // The host's standard streams (the test's own, through the real target).
    LinuxTarget target;
    ASSERT_FALSE(kernel::install_standard_streams(*context, target).is_error());
    auto out = context->fds.get(1);
    ASSERT_FALSE(out.is_error());
    EXPECT_TRUE(out.value()->can_write());
    EXPECT_FALSE(out.value()->stat().is_error());
    EXPECT_EQ(error_code(out.value()->seek(0, SEEK_CUR)), ESPIPE);
    EXPECT_FALSE(out.value()->describe().empty());
    EXPECT_FALSE(context->fds.close_on_exec(1).value());

    // fork: same directories, umask and open files; later changes are separate.
    ASSERT_FALSE(context->fds.install(7, open("/d/file1", O_RDONLY), true).is_error());
    std::unique_ptr<kernel::FsContext> child = context->clone();
    EXPECT_EQ(child->cwd()->to_string(), "/d");
    EXPECT_EQ(child->umask(), 077u);
    EXPECT_EQ(child->fds.get(7).value(), context->fds.get(7).value());
    EXPECT_TRUE(child->fds.close_on_exec(7).value());
    child->set_cwd(m_vfs->resolve(m_vfs->root_lookup(), "/d/subdir").value());
    ASSERT_FALSE(child->fds.remove(7).is_error());
    EXPECT_EQ(context->cwd()->to_string(), "/d");
    EXPECT_FALSE(context->fds.get(7).is_error());
}

}  // namespace
}  // namespace myst::fs
