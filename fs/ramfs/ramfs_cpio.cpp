// Loading a CPIO newc archive into a ramfs.
#include <sys/sysmacros.h>

#include <map>
#include <tuple>
#include <vector>

#include "fs/ramfs/ramfs.h"
#include "fs/ramfs/ramfs_inode.h"
#include "image/cpio.h"

namespace myst::fs {

namespace {

using ramfs::RamFileSystem;
using ramfs::RamInode;

struct timespec time_of(const image::CpioEntry& entry) {
    return {static_cast<time_t>(entry.mtime), 0};
}

Error entry_error(const image::CpioEntry& entry, const std::string& reason, int code = EINVAL) {
    return Error(code, "cpio entry '" + entry.name + "': " + reason);
}

// Copies an entry's data into a regular file, checking the "070702" sum.
Result<void> load_file_data(image::RandomAccessFile& archive, const image::CpioEntry& entry,
                            RamInode& inode) {
    auto loaded = inode.load_locked(archive, entry.data_offset, entry.data_size);
    if (loaded.is_error())
        return entry_error(entry, "cannot read data: " + loaded.error().message(), EIO);
    uint32_t sum = loaded.value();
    if (entry.has_checksum && sum != entry.checksum)
        return entry_error(entry, "checksum mismatch (archive says " +
                                      std::to_string(entry.checksum) + ", data sums to " +
                                      std::to_string(sum) + ")");
    return {};
}

Result<std::string> load_symlink_target(image::RandomAccessFile& archive,
                                        const image::CpioEntry& entry) {
    if (entry.data_size == 0)
        return entry_error(entry, "symbolic link with an empty target");
    if (entry.data_size >= PATH_MAX)
        return entry_error(entry, "symbolic link target longer than PATH_MAX");
    std::string target(entry.data_size, '\0');
    auto read = archive.read_at(entry.data_offset,
                                {reinterpret_cast<uint8_t*>(target.data()), target.size()});
    if (read.is_error())
        return entry_error(entry, "cannot read link target: " + read.error().message(), EIO);
    if (target.find('\0') != std::string::npos)
        return entry_error(entry, "symbolic link target contains a NUL byte");
    return target;
}

class CpioLoader {
public:
    CpioLoader(image::RandomAccessFile& archive, RamFileSystem& fs)
        : m_archive(archive), m_fs(fs) {}

    Result<void> add(const image::CpioEntry& entry) {
        auto parsed = image::cpio_name_components(entry.name);
        if (parsed.is_error())
            return parsed.release_error();
        std::vector<std::string> components = parsed.release_value();
        const mode_t type = entry.mode & S_IFMT;
        std::shared_ptr<RamInode> root = m_fs.root_inode();
        if (components.empty()) {
            if (type != S_IFDIR)
                return entry_error(entry, "the root is not a directory");
            root->set_attributes_locked(entry.mode, entry.uid, entry.gid, time_of(entry));
            return {};
        }
        for (const std::string& component : components) {
            if (component.size() > NAME_MAX)
                return entry_error(entry, "a name component is longer than NAME_MAX", ENAMETOOLONG);
        }
        std::shared_ptr<RamInode> dir = TRY(parent_directory(entry, components));
        const std::string& name = components.back();

        if (std::shared_ptr<RamInode> existing = dir->child_locked(name)) {
            // A directory listed twice (or after its children) keeps its
            // contents and takes the later attributes.
            if (existing->is_directory() && type == S_IFDIR) {
                existing->set_attributes_locked(entry.mode, entry.uid, entry.gid, time_of(entry));
                return {};
            }
            if (existing->is_directory() && existing->has_entries_locked())
                return entry_error(entry, "replaces a directory that has entries");
            dir->remove_entry_locked(name);
        }

        if (type == S_IFREG && entry.nlink > 1) {
            auto key = std::make_tuple(entry.dev_major, entry.dev_minor, entry.ino);
            auto it = m_hard_links.find(key);
            if (it != m_hard_links.end()) {
                std::shared_ptr<RamInode> inode = it->second;
                if (entry.data_size > 0)
                    TRY(load_file_data(m_archive, entry, *inode));
                dir->add_entry_locked(name, inode);
                return {};
            }
        }

        NewInode attributes{entry.mode, entry.uid, entry.gid,
                            makedev(entry.rdev_major, entry.rdev_minor)};
        std::shared_ptr<RamInode> inode = m_fs.make_inode_locked(attributes);
        if (type == S_IFREG) {
            TRY(load_file_data(m_archive, entry, *inode));
            if (entry.nlink > 1)
                m_hard_links[std::make_tuple(entry.dev_major, entry.dev_minor, entry.ino)] = inode;
        } else if (type == S_IFLNK) {
            inode->set_symlink_target_locked(TRY(load_symlink_target(m_archive, entry)));
        }
        inode->set_attributes_locked(entry.mode, entry.uid, entry.gid, time_of(entry));
        dir->add_entry_locked(name, std::move(inode));
        return {};
    }

private:
    // The directory that holds the last component, creating missing ones.
    Result<std::shared_ptr<RamInode>> parent_directory(const image::CpioEntry& entry,
                                                       const std::vector<std::string>& components) {
        std::shared_ptr<RamInode> dir = m_fs.root_inode();
        for (size_t i = 0; i + 1 < components.size(); ++i) {
            std::shared_ptr<RamInode> next = dir->child_locked(components[i]);
            if (!next) {
                next = m_fs.make_inode_locked({S_IFDIR | 0755, 0, 0, 0});
                next->set_attributes_locked(0755, 0, 0, time_of(entry));
                dir->add_entry_locked(components[i], next);
            } else if (!next->is_directory()) {
                return entry_error(entry, "'" + components[i] + "' is not a directory", ENOTDIR);
            }
            dir = std::move(next);
        }
        return dir;
    }

    image::RandomAccessFile& m_archive;
    RamFileSystem& m_fs;
    std::map<std::tuple<uint32_t, uint32_t, uint32_t>, std::shared_ptr<RamInode>> m_hard_links;
};

}  // namespace

Result<std::shared_ptr<FileSystem>> create_ramfs_from_cpio(image::RandomAccessFile& archive,
                                                           Clock clock) {
    auto entries = image::read_cpio_entries(archive);
    if (entries.is_error())
        return entries.release_error().with_context("cannot load the CPIO archive");
    auto fs = std::make_shared<RamFileSystem>(std::move(clock), 0755, PageCharge{});
    {
        // Nobody else sees the file system yet; the lock only satisfies the
        // *_locked contract.
        std::lock_guard guard(fs->lock());
        CpioLoader loader(archive, *fs);
        for (const image::CpioEntry& entry : entries.value()) {
            auto added = loader.add(entry);
            if (added.is_error())
                return added.release_error().with_context("cannot load the CPIO archive");
        }
    }
    return std::shared_ptr<FileSystem>(std::move(fs));
}

}  // namespace myst::fs
