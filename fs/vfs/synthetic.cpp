#include "fs/vfs/synthetic.h"

#include <algorithm>
#include <cstring>

namespace myst::fs {

Result<struct stat> SyntheticInode::read_stat() {
    auto& fs = static_cast<SyntheticFileSystem&>(file_system());
    struct stat st {};
    st.st_ino = ino();
    st.st_mode = m_mode;
    st.st_nlink = link_count();
    st.st_rdev = m_rdev;
    st.st_blksize = 4096;
    st.st_atim = st.st_mtim = st.st_ctim = fs.birth();
    if (is_symlink()) {
        auto target = read_link();
        if (!target.is_error())
            st.st_size = static_cast<off_t>(target.value().size());
    }
    return st;
}

Result<std::shared_ptr<Inode>> StaticDirectory::lookup(std::string_view name) {
    for (const auto& [child_name, inode] : m_children) {
        if (child_name == name)
            return inode;
    }
    return Error(ENOENT, "no such file or directory");
}

Result<void> list_entries(const std::vector<DirectoryEntry>& entries, uint64_t cookie,
                          const DirectoryVisitor& visit) {
    for (uint64_t i = cookie; i < entries.size(); ++i) {
        DirectoryEntry entry = entries[i];
        entry.next_cookie = i + 1;
        if (!visit(entry))
            break;
    }
    return {};
}

Result<void> list_numbered_entries(std::vector<std::pair<uint64_t, DirectoryEntry>> entries,
                                   uint64_t cookie, const DirectoryVisitor& visit) {
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [number, entry] : entries) {
        if (number < cookie)
            continue;
        entry.next_cookie = number + 1;
        if (!visit(entry))
            break;
    }
    return {};
}

Result<void> StaticDirectory::read_directory(uint64_t cookie, const DirectoryVisitor& visit) {
    std::vector<DirectoryEntry> entries;
    for (const auto& [name, inode] : m_children)
        entries.push_back({name, inode->ino(), directory_entry_type(inode->type()), 0});
    return list_entries(entries, cookie, visit);
}

nlink_t StaticDirectory::link_count() {
    return 2 + static_cast<nlink_t>(
                   std::count_if(m_children.begin(), m_children.end(),
                                 [](const auto& child) { return child.second->is_directory(); }));
}

Result<size_t> GeneratedFile::read_at(uint64_t offset, std::span<uint8_t> buffer) {
    std::string content = TRY(m_content());
    if (offset >= content.size())
        return size_t{0};
    size_t count = std::min<uint64_t>(buffer.size(), content.size() - offset);
    std::memcpy(buffer.data(), content.data() + offset, count);
    return count;
}

Result<std::shared_ptr<OpenFile>> GeneratedFile::open(const PathRef& path, int flags) {
    if ((flags & O_ACCMODE) != O_RDONLY)
        return Error(EACCES, "read-only file");
    std::string content = TRY(m_content());
    return std::shared_ptr<OpenFile>(
        std::make_shared<SnapshotFile>(path, flags, std::move(content)));
}

}  // namespace myst::fs
