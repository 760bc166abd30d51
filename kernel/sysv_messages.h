// System V message queues (msgget(2), msgsnd(2), msgrcv(2), msgctl(2)),
// shared by every process of the kernel. Limits are Linux's defaults
// (/proc/sys/kernel/msgmax, msgmnb, msgmni).
//
// Memory (DESIGN.md decision 5): every queued message's text is charged to
// the budget until it is received or its queue removed; a send past the
// budget fails with ENOMEM, as a failed allocation does on Linux.
//
// Guarded by the kernel lock.
#pragma once

#include <sys/msg.h>
#include <sys/types.h>

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <vector>

#include "base/result.h"
#include "kernel/ipc_common.h"
#include "kernel/memory_manager.h"

namespace myst::kernel {

// MSGMAX, MSGMNB and MSGMNI.
constexpr size_t msg_size_max = 8192;
constexpr size_t msg_queue_bytes_max = 16384;
constexpr int msg_queues_max = 32000;

struct QueuedMessage {
    long type = 0;
    std::vector<uint8_t> text;
};

struct MessageQueue {
    explicit MessageQueue(MemoryManager& memory) : memory(memory) {}
    ~MessageQueue();

    MemoryManager& memory;
    // msg_perm, the times, msg_qbytes and the pids; msg_cbytes and
    // msg_qnum follow `messages`.
    struct msqid_ds status {};
    std::list<QueuedMessage> messages;
    bool removed = false;  // IPC_RMID: waiters leave with EIDRM
    ChangeWord changes;

    struct ipc_perm& permissions() {
        return status.msg_perm;
    }
};

// How msgrcv picks a message (its msgtyp and flags).
struct MessageSelector {
    enum class Mode { any, equal, not_equal, less_equal, number } mode = Mode::any;
    long type = 0;
};

class MessageRegistry {
public:
    MessageRegistry(Target& target, MemoryManager& memory)
        : m_target(target), m_memory(memory), m_queues(msg_queues_max) {}

    // msgget(2).
    Result<int> get(key_t key, int flags, const IpcCaller& caller);
    Result<std::shared_ptr<MessageQueue>> find(int id) const { return m_queues.find(id); }
    Result<std::pair<int, std::shared_ptr<MessageQueue>>> at_index(int index) const {
        return m_queues.at_index(index);
    }
    // Queues the message if it fits under msg_qbytes: false when it must
    // wait for room; ENOMEM past the memory budget.
    Result<bool> try_send(MessageQueue& queue, QueuedMessage& message, const IpcCaller& caller);
    // The message `selector` picks, if any (not taken off the queue).
    std::optional<std::list<QueuedMessage>::iterator> pick(MessageQueue& queue,
                                                           const MessageSelector& selector);
    // Takes a picked message off the queue (msgrcv without MSG_COPY).
    QueuedMessage take(MessageQueue& queue, std::list<QueuedMessage>::iterator message,
                       const IpcCaller& caller);
    // IPC_SET changed msg_qbytes: senders look again.
    void changed(MessageQueue& queue) { queue.changes.changed(m_target); }
    // IPC_RMID: waiters get EIDRM.
    void remove(int id);

    // IPC_INFO/MSG_INFO figures.
    int max_index() const { return m_queues.max_index(); }
    size_t queues_in_use() const { return m_queues.size(); }
    uint64_t messages_queued() const;
    uint64_t bytes_queued() const;

private:
    Target& m_target;
    MemoryManager& m_memory;
    IpcTable<MessageQueue> m_queues;
};

}  // namespace myst::kernel
