#include "kernel/posix_mqueue.h"

#include <fcntl.h>
#include <poll.h>

#include <climits>

namespace myst::kernel {

namespace {

// Linux's mq_bytes: the messages' room and the kernel's per-message and
// per-priority bookkeeping (sizeof(struct msg_msg) and of
// posix_msg_tree_node on x86-64), charged to the creator's
// RLIMIT_MSGQUEUE.
constexpr uint64_t message_overhead = 48;
constexpr uint64_t priority_overhead = 40;

Result<uint64_t> queue_bytes(long max_messages, long message_size) {
    auto messages = static_cast<uint64_t>(max_messages);
    auto size = static_cast<uint64_t>(message_size);
    if (size > ULONG_MAX / messages)
        return Error(EOVERFLOW, "mq_maxmsg * mq_msgsize overflows");
    uint64_t tree = messages * message_overhead +
                    std::min<uint64_t>(messages, mq_priorities) * priority_overhead;
    if (messages * size > ULONG_MAX - tree)
        return Error(EOVERFLOW, "the queue's size overflows");
    return messages * size + tree;
}

// Linux's mq_attr_ok() for a new queue's attributes.
Result<void> check_attributes(const struct mq_attr& attributes, const IpcCaller& caller) {
    if (attributes.mq_maxmsg <= 0 || attributes.mq_msgsize <= 0)
        return Error(EINVAL, "mq_maxmsg and mq_msgsize must be positive");
    long max_messages = caller.privileged() ? mq_hard_max_messages : mq_max_messages;
    long max_size = caller.privileged() ? mq_hard_max_size : mq_max_size;
    if (attributes.mq_maxmsg > max_messages || attributes.mq_msgsize > max_size)
        return Error(EINVAL, "mq_maxmsg or mq_msgsize past the limit");
    return {};
}

// File permission bits as an inode's: owner, group, other; root passes.
bool may_open(const PosixQueue& queue, int flags, const IpcCaller& caller) {
    int wanted = 0;
    int access = flags & O_ACCMODE;
    if (access == O_RDONLY || access == O_RDWR)
        wanted |= 4;
    if (access == O_WRONLY || access == O_RDWR)
        wanted |= 2;
    struct ipc_perm perm {};
    perm.uid = perm.cuid = queue.uid();
    perm.gid = perm.cgid = queue.gid();
    perm.mode = static_cast<unsigned short>(queue.mode());
    return ipc_permitted(perm, caller, wanted);
}

}  // namespace

PosixQueue::PosixQueue(PosixQueueRegistry& registry, Target& target, std::string name,
                       const IpcCaller& owner, mode_t mode, long max_messages, long message_size,
                       uint64_t charge)
    : m_registry(registry),
      m_name(std::move(name)),
      m_uid(owner.euid),
      m_gid(owner.egid),
      m_mode(mode),
      m_max_messages(max_messages),
      m_message_size(message_size),
      m_charge(charge),
      m_readable(target),
      m_writable(target) {
    update();
}

PosixQueue::~PosixQueue() {
    m_registry.memory().uncharge_shared(m_bytes);
    m_registry.release_user_bytes(m_uid, m_charge);
}

void PosixQueue::update() {
    m_readable.set(m_count > 0);
    m_writable.set(m_count < static_cast<size_t>(m_max_messages));
    ++m_generation;
}

uint32_t PosixQueue::poll_events() const {
    uint32_t events = 0;
    if (m_count > 0)
        events |= POLLIN | POLLRDNORM;
    if (m_count < static_cast<size_t>(m_max_messages))
        events |= POLLOUT | POLLWRNORM;
    return events;
}

Result<std::optional<MqNotification>> PosixQueue::send(std::vector<uint8_t> text,
                                                       unsigned priority) {
    if (m_count >= static_cast<size_t>(m_max_messages))
        return Error(EAGAIN, "the queue is full");
    TRY(m_registry.memory().charge_shared(text.size()));
    m_bytes += text.size();
    m_messages[priority].push_back(std::move(text));
    ++m_count;
    update();
    std::optional<MqNotification> due;
    if (m_count == 1 && receivers_waiting == 0 && m_notification) {
        due = m_notification;
        m_notification.reset();  // a notification is for one message
    }
    return due;
}

Result<std::pair<std::vector<uint8_t>, unsigned>> PosixQueue::receive() {
    if (m_count == 0)
        return Error(EAGAIN, "the queue is empty");
    auto highest = m_messages.begin();
    std::pair<std::vector<uint8_t>, unsigned> message{std::move(highest->second.front()),
                                                      highest->first};
    highest->second.pop_front();
    if (highest->second.empty())
        m_messages.erase(highest);
    --m_count;
    m_bytes -= message.first.size();
    m_registry.memory().uncharge_shared(message.first.size());
    update();
    return message;
}

Result<void> PosixQueue::notify(pid_t pid, const struct sigevent* event) {
    if (!event) {
        // Only the registered process may remove its registration; for
        // anyone else it is a no-op.
        if (m_notification && m_notification->pid == pid)
            m_notification.reset();
        return {};
    }
    if (m_notification)
        return Error(EBUSY, "another process is registered for notification");
    m_notification = MqNotification{pid, *event};
    return {};
}

Result<struct stat> PosixQueueFile::stat() {
    // A regular file of the mqueue file system, as Linux shows it.
    struct stat st = TRY(AnonymousFile::stat());
    st.st_mode = S_IFREG | m_queue->mode();
    st.st_uid = m_queue->uid();
    st.st_gid = m_queue->gid();
    return st;
}

Result<void> PosixQueueFile::add_wake_sources(fs::WaitSources& sources, uint32_t events) {
    if (events & (POLLIN | POLLRDNORM))
        sources.add_fd(TRY(m_queue->readable_fd()), POLLIN);
    if (events & (POLLOUT | POLLWRNORM))
        sources.add_fd(TRY(m_queue->writable_fd()), POLLIN);
    return {};
}

Result<std::shared_ptr<PosixQueueFile>> PosixQueueRegistry::open(const std::string& name, int flags,
                                                                 mode_t mode,
                                                                 const struct mq_attr* attributes,
                                                                 const IpcCaller& caller,
                                                                 uint64_t byte_limit) {
    // lookup_one_len(): no '/' in the name, not "." or "..".
    if (name.find('/') != std::string::npos || name == "." || name == "..")
        return Error(EACCES, "bad queue name");
    if (name.size() > NAME_MAX)
        return Error(ENAMETOOLONG, "queue name too long");
    const int file_flags = flags & (O_ACCMODE | O_NONBLOCK);
    auto it = m_queues.find(name);
    if (it == m_queues.end()) {
        if (!(flags & O_CREAT))
            return Error(ENOENT, "no such queue");
        struct mq_attr wanted {};
        wanted.mq_maxmsg = std::min(mq_default_messages, mq_max_messages);
        wanted.mq_msgsize = std::min(mq_default_size, mq_max_size);
        if (attributes) {
            TRY(check_attributes(*attributes, caller));
            wanted = *attributes;
        }
        uint64_t bytes = TRY(queue_bytes(wanted.mq_maxmsg, wanted.mq_msgsize));
        uint64_t& used = m_user_bytes[caller.euid];
        if (used + bytes < used || used + bytes > byte_limit)
            return Error(EMFILE, "RLIMIT_MSGQUEUE reached");
        if (m_queues.size() >= mq_queues_max && !caller.privileged())
            return Error(ENOSPC, "queues_max reached");
        used += bytes;
        auto queue = std::make_shared<PosixQueue>(*this, m_target, name, caller, mode & 07777,
                                                  wanted.mq_maxmsg, wanted.mq_msgsize, bytes);
        m_queues[name] = queue;
        return std::make_shared<PosixQueueFile>(std::move(queue), file_flags);
    }
    if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
        return Error(EEXIST, "the queue exists");
    if ((flags & O_ACCMODE) == O_ACCMODE)
        return Error(EINVAL, "O_RDWR|O_WRONLY");
    if (!may_open(*it->second, flags, caller))
        return Error(EACCES, "queue permission denied");
    return std::make_shared<PosixQueueFile>(it->second, file_flags);
}

Result<void> PosixQueueRegistry::unlink(const std::string& name, const IpcCaller& caller) {
    if (name.find('/') != std::string::npos || name == "." || name == "..")
        return Error(EACCES, "bad queue name");
    if (name.size() > NAME_MAX)
        return Error(ENAMETOOLONG, "queue name too long");
    auto it = m_queues.find(name);
    if (it == m_queues.end())
        return Error(ENOENT, "no such queue");
    // The directory is sticky (mode 1777), as Linux's mqueue root.
    if (!caller.privileged() && caller.euid != it->second->uid())
        return Error(EPERM, "not the queue's owner");
    m_queues.erase(it);
    return {};
}

void PosixQueueRegistry::release_user_bytes(uid_t uid, uint64_t bytes) {
    uint64_t& used = m_user_bytes[uid];
    used -= std::min(used, bytes);
}

}  // namespace myst::kernel
