#include "kernel/sysv_messages.h"

namespace myst::kernel {

MessageQueue::~MessageQueue() {
    memory.uncharge_shared(status.__msg_cbytes);
}

Result<int> MessageRegistry::get(key_t key, int flags, const IpcCaller& caller) {
    auto create = [&]() -> Result<int> {
        auto queue = std::make_shared<MessageQueue>(m_memory);
        ipc_init_perm(queue->status.msg_perm, key, flags, caller);
        queue->status.msg_qbytes = msg_queue_bytes_max;
        queue->status.msg_ctime = caller.now;
        return m_queues.add(queue);
    };
    auto check = [](MessageQueue&) -> Result<void> { return {}; };
    return ipc_get(m_queues, key, flags, caller, create, check);
}

Result<bool> MessageRegistry::try_send(MessageQueue& queue, QueuedMessage& message,
                                       const IpcCaller& caller) {
    // Linux's msg_fits_inqueue(): the bytes and the number of messages
    // both count against msg_qbytes.
    struct msqid_ds& status = queue.status;
    size_t size = message.text.size();
    if (size + status.__msg_cbytes > status.msg_qbytes || 1 + status.msg_qnum > status.msg_qbytes)
        return false;
    TRY(m_memory.charge_shared(size));
    queue.messages.push_back(std::move(message));
    status.__msg_cbytes += size;
    status.msg_qnum += 1;
    status.msg_lspid = caller.pid;
    status.msg_stime = caller.now;
    queue.changes.changed(m_target);
    return true;
}

std::optional<std::list<QueuedMessage>::iterator> MessageRegistry::pick(
    MessageQueue& queue, const MessageSelector& selector) {
    using Mode = MessageSelector::Mode;
    std::optional<std::list<QueuedMessage>::iterator> found;
    long count = 0;
    for (auto it = queue.messages.begin(); it != queue.messages.end(); ++it) {
        switch (selector.mode) {
            case Mode::any:
                return it;
            case Mode::equal:
                if (it->type == selector.type)
                    return it;
                break;
            case Mode::not_equal:
                if (it->type != selector.type)
                    return it;
                break;
            case Mode::number:
                if (count++ == selector.type)
                    return it;
                break;
            case Mode::less_equal:
                // The first message of the lowest type up to the bound.
                if (it->type <= selector.type && (!found || it->type < (*found)->type))
                    found = it;
                break;
        }
    }
    return found;
}

QueuedMessage MessageRegistry::take(MessageQueue& queue, std::list<QueuedMessage>::iterator message,
                                    const IpcCaller& caller) {
    QueuedMessage taken = std::move(*message);
    queue.messages.erase(message);
    struct msqid_ds& status = queue.status;
    status.__msg_cbytes -= taken.text.size();
    status.msg_qnum -= 1;
    status.msg_lrpid = caller.pid;
    status.msg_rtime = caller.now;
    m_memory.uncharge_shared(taken.text.size());
    queue.changes.changed(m_target);
    return taken;
}

void MessageRegistry::remove(int id) {
    auto found = m_queues.find(id);
    if (found.is_error())
        return;
    std::shared_ptr<MessageQueue> queue = found.release_value();
    queue->removed = true;
    m_queues.remove(id);
    queue->changes.changed(m_target);
}

uint64_t MessageRegistry::messages_queued() const {
    uint64_t count = 0;
    m_queues.for_each([&](int, const MessageQueue& queue) { count += queue.status.msg_qnum; });
    return count;
}

uint64_t MessageRegistry::bytes_queued() const {
    uint64_t bytes = 0;
    m_queues.for_each([&](int, const MessageQueue& queue) { bytes += queue.status.__msg_cbytes; });
    return bytes;
}

}  // namespace myst::kernel
