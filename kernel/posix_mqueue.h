// POSIX message queues (mq_overview(7)): named queues shared by every
// process of the kernel, opened as descriptors (mqds) that poll, select
// and epoll see like any other kernel file: readable while a message is
// queued, writable while the queue is not full (DESIGN.md decision 7).
// Like a pipe, a queue's send and receive fail with EAGAIN where Linux
// would sleep, and the syscalls wait for its wake fds (kernel/readiness.h).
//
// Limits are Linux's defaults (/proc/sys/fs/mqueue: msg_default 10,
// msg_max 10, msgsize_default 8192, msgsize_max 8192, queues_max 256; root
// may pass msg_max and msgsize_max up to the hard limits, as
// CAP_SYS_RESOURCE does). A queue counts against its creator's
// RLIMIT_MSGQUEUE with Linux's formula (EMFILE past it), and every queued
// message's text against the memory budget (ENOMEM past it).
//
// Guarded by the kernel lock.
#pragma once

#include <mqueue.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "kernel/anonymous_file.h"
#include "kernel/ipc_common.h"
#include "kernel/memory_manager.h"
#include "kernel/wake_signal.h"

namespace myst::kernel {

class PosixQueueRegistry;

constexpr long mq_default_messages = 10;             // msg_default
constexpr long mq_max_messages = 10;                 // msg_max
constexpr long mq_default_size = 8192;               // msgsize_default
constexpr long mq_max_size = 8192;                   // msgsize_max
constexpr long mq_hard_max_messages = 65536;         // HARD_MSGMAX
constexpr long mq_hard_max_size = 16 * 1024 * 1024;  // HARD_MSGSIZEMAX
constexpr size_t mq_queues_max = 256;                // queues_max
constexpr unsigned mq_priorities = 32768;            // MQ_PRIO_MAX

// mq_notify(2)'s registration: the process told when the queue stops
// being empty, and how (SIGEV_NONE or SIGEV_SIGNAL).
struct MqNotification {
    pid_t pid = 0;
    struct sigevent event {};
};

class PosixQueue {
public:
    PosixQueue(PosixQueueRegistry& registry, Target& target, std::string name,
               const IpcCaller& owner, mode_t mode, long max_messages, long message_size,
               uint64_t charge);
    ~PosixQueue();
    PosixQueue(const PosixQueue&) = delete;
    PosixQueue& operator=(const PosixQueue&) = delete;

    const std::string& name() const { return m_name; }
    uid_t uid() const { return m_uid; }
    gid_t gid() const { return m_gid; }
    mode_t mode() const { return m_mode; }
    long max_messages() const { return m_max_messages; }
    long message_size() const { return m_message_size; }
    long current_messages() const { return static_cast<long>(m_count); }

    // Queues a message behind those of its priority: EAGAIN when full,
    // ENOMEM past the memory budget. Returns the notification that is due
    // now (the queue stopped being empty while nobody waited to receive).
    Result<std::optional<MqNotification>> send(std::vector<uint8_t> text, unsigned priority);
    // The oldest message of the highest priority; EAGAIN when empty.
    Result<std::pair<std::vector<uint8_t>, unsigned>> receive();

    // mq_notify(2): EBUSY while another process is registered.
    Result<void> notify(pid_t pid, const struct sigevent* event);
    const std::optional<MqNotification>& notification() const { return m_notification; }
    // A close(2) of an mqd of the queue by `pid`: its registration goes.
    void closed_by(pid_t pid) { (void)notify(pid, nullptr); }

    // Receivers asleep on the queue: a message they will take raises no
    // notification, as Linux hands it to them directly.
    unsigned receivers_waiting = 0;

    uint32_t poll_events() const;
    Result<int> readable_fd() { return m_readable.fd(); }
    Result<int> writable_fd() { return m_writable.fd(); }
    uint64_t generation() const { return m_generation; }

private:
    void update();

    PosixQueueRegistry& m_registry;
    const std::string m_name;
    const uid_t m_uid;
    const gid_t m_gid;
    const mode_t m_mode;
    const long m_max_messages;
    const long m_message_size;
    const uint64_t m_charge;  // RLIMIT_MSGQUEUE bytes of the creator
    // Messages by priority, highest first; each priority in send order.
    std::map<unsigned, std::deque<std::vector<uint8_t>>, std::greater<>> m_messages;
    size_t m_count = 0;
    uint64_t m_bytes = 0;
    std::optional<MqNotification> m_notification;
    uint64_t m_generation = 0;
    WakeSignal m_readable;
    WakeSignal m_writable;
};

// An open queue: what mq_open's descriptor refers to.
class PosixQueueFile final : public AnonymousFile {
public:
    PosixQueueFile(std::shared_ptr<PosixQueue> queue, int flags)
        : AnonymousFile(flags, "mqueue"), m_queue(std::move(queue)) {}

    PosixQueue& queue() const { return *m_queue; }
    const std::shared_ptr<PosixQueue>& shared_queue() { return m_queue; }

    Result<struct stat> stat() override;
    std::string describe() const override { return "/" + m_queue->name(); }
    uint32_t poll_events() override { return m_queue->poll_events(); }
    Result<void> add_wake_sources(fs::WaitSources& sources, uint32_t events) override;
    uint64_t readiness_generation() const override { return m_queue->generation(); }

private:
    std::shared_ptr<PosixQueue> m_queue;
};

// The queue names (the mqueue file system's one directory).
class PosixQueueRegistry {
public:
    PosixQueueRegistry(Target& target, MemoryManager& memory)
        : m_target(target), m_memory(memory) {}

    // mq_open(2) of `name` (no leading '/'): an open file of the queue,
    // made with O_CREAT; ENOENT, EEXIST, EINVAL (attributes, O_ACCMODE),
    // EACCES, ENAMETOOLONG, EMFILE and ENOSPC as Linux.
    Result<std::shared_ptr<PosixQueueFile>> open(const std::string& name, int flags, mode_t mode,
                                                 const struct mq_attr* attributes,
                                                 const IpcCaller& caller, uint64_t byte_limit);
    // mq_unlink(2): the name goes; the queue lives while it is open.
    Result<void> unlink(const std::string& name, const IpcCaller& caller);

    MemoryManager& memory() { return m_memory; }
    // The RLIMIT_MSGQUEUE bytes a user's queues take.
    void release_user_bytes(uid_t uid, uint64_t bytes);

private:
    Target& m_target;
    MemoryManager& m_memory;
    std::map<std::string, std::shared_ptr<PosixQueue>> m_queues;
    std::map<uid_t, uint64_t> m_user_bytes;
};

}  // namespace myst::kernel
