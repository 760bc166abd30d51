// Building blocks for file systems whose inodes are made up by the kernel
// (devfs, procfs): read-only directories, symlinks and generated files.
// Their attributes never change; times are the file system's birth time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fs/vfs/inode.h"
#include "fs/vfs/open_file.h"

namespace myst::fs {

class SyntheticFileSystem : public FileSystem {
public:
    SyntheticFileSystem(std::string type_name, long magic, struct timespec birth)
        : m_type_name(std::move(type_name)), m_magic(magic), m_birth(birth) {}

    std::shared_ptr<Inode> root() override { return m_root; }
    std::string_view type_name() const override { return m_type_name; }
    struct timespec birth() const {
        return m_birth;
    }
    void set_root(std::shared_ptr<Inode> root) { m_root = std::move(root); }

protected:
    long magic() const override { return m_magic; }

private:
    std::string m_type_name;
    long m_magic;
    struct timespec m_birth;
    std::shared_ptr<Inode> m_root;
};

class SyntheticInode : public Inode {
public:
    SyntheticInode(SyntheticFileSystem& fs, uint64_t ino, mode_t mode, dev_t rdev = 0)
        : Inode(fs, ino, mode), m_mode(mode), m_rdev(rdev) {}

protected:
    Result<struct stat> read_stat() override;
    // Directories report 2 + their subdirectories.
    virtual nlink_t link_count() { return 1; }

private:
    mode_t m_mode;
    dev_t m_rdev;
};

// A directory with a fixed list of children.
class StaticDirectory : public SyntheticInode {
public:
    StaticDirectory(SyntheticFileSystem& fs, uint64_t ino, mode_t permissions = 0755)
        : SyntheticInode(fs, ino, S_IFDIR | permissions) {}

    void add(std::string name, std::shared_ptr<Inode> inode) {
        m_children.emplace_back(std::move(name), std::move(inode));
    }
    Result<std::shared_ptr<Inode>> lookup(std::string_view name) override;
    Result<void> read_directory(uint64_t cookie, const DirectoryVisitor& visit) override;

protected:
    nlink_t link_count() override;

private:
    std::vector<std::pair<std::string, std::shared_ptr<Inode>>> m_children;
};

// Lists `entries` from `cookie` on; cookies are positions in the list.
Result<void> list_entries(const std::vector<DirectoryEntry>& entries, uint64_t cookie,
                          const DirectoryVisitor& visit);
// Entries named by numbers (descriptors, thread ids), listed by number from
// `cookie` on: the cookie of an entry is its number + 1, as Linux's /proc
// positions follow the numbers, so that removing entries while a program
// reads the directory (closing descriptors as it lists /proc/self/fd)
// makes it skip none of the others.
Result<void> list_numbered_entries(std::vector<std::pair<uint64_t, DirectoryEntry>> entries,
                                   uint64_t cookie, const DirectoryVisitor& visit);

// A symlink whose target is computed when it is read.
class GeneratedSymlink : public SyntheticInode {
public:
    using Generator = std::function<Result<std::string>()>;
    GeneratedSymlink(SyntheticFileSystem& fs, uint64_t ino, Generator target)
        : SyntheticInode(fs, ino, S_IFLNK | 0777), m_target(std::move(target)) {}

    Result<std::string> read_link() override { return m_target(); }

private:
    Generator m_target;
};

// A read-only file whose content is produced at open (one snapshot per
// open file, as procfs's seq files give a consistent view).
class GeneratedFile : public SyntheticInode {
public:
    using Generator = std::function<Result<std::string>()>;
    GeneratedFile(SyntheticFileSystem& fs, uint64_t ino, mode_t permissions, Generator content)
        : SyntheticInode(fs, ino, S_IFREG | permissions), m_content(std::move(content)) {}

    Result<size_t> read_at(uint64_t offset, std::span<uint8_t> buffer) override;
    Result<std::shared_ptr<OpenFile>> open(const PathRef& path, int flags) override;

private:
    Generator m_content;
};

}  // namespace myst::fs
