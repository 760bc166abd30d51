#include "kernel/shared_memory.h"

#include <fcntl.h>
#include <sys/ipc.h>

#include <string>

namespace myst::kernel {

namespace {

// Linux's SHMMIN and SHMMAX (the default, ULONG_MAX - 2^24).
constexpr uint64_t segment_min_size = 1;
constexpr uint64_t segment_max_size = ~uint64_t(0) - (uint64_t(1) << 24);

class BudgetCharge final : public MemoryCharge {
public:
    explicit BudgetCharge(MemoryManager& memory) : m_memory(memory) {}
    bool take(uint64_t bytes) override { return !m_memory.charge_shared(bytes).is_error(); }
    void give_back(uint64_t bytes) override { m_memory.uncharge_shared(bytes); }
    uint64_t available() const override { return m_memory.budget_available(); }
    uint64_t capacity() const override { return m_memory.budget_bytes(); }

private:
    MemoryManager& m_memory;
};

}  // namespace

fs::PageCharge budget_page_charge(MemoryManager& memory) {
    return std::make_shared<BudgetCharge>(memory);
}

SharedMemoryRegistry::SharedMemoryRegistry(Target& target, MemoryManager& memory, fs::Clock clock)
    : m_target(target),
      m_memory(memory),
      m_memfd_fs(fs::create_ramfs(std::move(clock), 01777, budget_page_charge(memory))) {
    auto mount = std::make_shared<fs::Mount>(fs::Mount{0, m_memfd_fs, "/", "memfd", false});
    m_memfd_root = std::make_shared<fs::PathNode>(nullptr, "", m_memfd_fs->root(), mount);
}

Result<std::shared_ptr<fs::OpenFile>> SharedMemoryRegistry::create_memfd(std::string_view name,
                                                                         int open_flags) {
    // The file gets a name no other memfd has, then loses it: like Linux's
    // memfds it has no link (st_nlink 0) and lives while it is open or
    // mapped; its path is "/memfd:<name>", which describe() marks deleted.
    std::string entry = "memfd-" + std::to_string(m_next_memfd++);
    const std::shared_ptr<fs::Inode>& root = m_memfd_root->inode();
    std::shared_ptr<fs::Inode> inode = TRY(root->create(entry, {S_IFREG | 0777, 0, 0, 0}));
    TRY(root->unlink(entry));
    auto path = std::make_shared<fs::PathNode>(m_memfd_root, "memfd:" + std::string(name), inode,
                                               m_memfd_root->mount());
    return inode->open(path, O_RDWR | open_flags);
}

Result<int> SharedMemoryRegistry::get_segment(key_t key, uint64_t size, int flags, uid_t uid,
                                              gid_t gid, pid_t pid, time_t now) {
    collect_removed();
    if (key != IPC_PRIVATE) {
        for (auto& [id, segment] : m_segments) {
            if (segment.removed || segment.status.shm_perm.__key != key)
                continue;
            if ((flags & IPC_CREAT) && (flags & IPC_EXCL))
                return Error(EEXIST, "a segment with this key exists");
            if (size > segment.status.shm_segsz)
                return Error(EINVAL, "the segment is smaller than asked");
            return id;
        }
        if (!(flags & IPC_CREAT))
            return Error(ENOENT, "no segment with this key");
    }
    if (size < segment_min_size || size > segment_max_size)
        return Error(EINVAL, "bad segment size");
    auto pages = TRY(SharedPages::create(m_target, m_memory, page_align_up(size)));
    int id = m_next_id++;
    SysvSegment& segment = m_segments[id];
    segment.id = id;
    segment.pages = std::move(pages);
    segment.status.shm_perm.__key = key;
    segment.status.shm_perm.uid = segment.status.shm_perm.cuid = uid;
    segment.status.shm_perm.gid = segment.status.shm_perm.cgid = gid;
    segment.status.shm_perm.mode = flags & 0777;
    segment.status.shm_segsz = size;
    segment.status.shm_ctime = now;
    segment.status.shm_cpid = pid;
    return id;
}

Result<SysvSegment*> SharedMemoryRegistry::segment(int id) {
    collect_removed();
    auto it = m_segments.find(id);
    if (it == m_segments.end())
        return Error(EINVAL, "no such segment");
    return &it->second;
}

SysvSegment* SharedMemoryRegistry::segment_of(const SharedPages* pages) {
    for (auto& [id, segment] : m_segments)
        if (segment.pages.get() == pages)
            return &segment;
    return nullptr;
}

void SharedMemoryRegistry::remove(SysvSegment& segment) {
    segment.removed = true;
    // Linux shows a removed segment's key as IPC_PRIVATE and SHM_DEST in its mode.
    segment.status.shm_perm.__key = IPC_PRIVATE;
    segment.status.shm_perm.mode |= SHM_DEST;
    collect_removed();
}

void SharedMemoryRegistry::collect_removed() {
    for (auto it = m_segments.begin(); it != m_segments.end();) {
        if (it->second.removed && attachments(it->second) == 0)
            it = m_segments.erase(it);
        else
            ++it;
    }
}

uint64_t SharedMemoryRegistry::attachments(const SysvSegment& segment) const {
    return m_memory.mappings_from_start_of(segment.pages.get());
}

}  // namespace myst::kernel
