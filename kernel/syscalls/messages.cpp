// System V message queues: msgget, msgsnd, msgrcv and msgctl over the
// kernel's queues (kernel/sysv_messages.h). A send that finds no room and
// a receive that finds no message sleep on the queue's change word without
// the kernel lock; a signal ends the wait with EINTR, never restarted
// (signal(7)), and the queue's removal with EIDRM.
#include <sys/msg.h>

#include <climits>

#include "kernel/ipc_namespace.h"
#include "kernel/kernel.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr int msg_copy = 040000;      // MSG_COPY (Linux 3.8)
constexpr int msg_stat_any = 13;      // MSG_STAT_ANY (Linux 4.17)
constexpr int readable = 0444;        // S_IRUGO
constexpr int writable = 0222;        // S_IWUGO
constexpr int msg_segment_size = 16;  // MSGSSZ
// MSGPOOL (kilobytes), MSGMAP, MSGTQL and MSGSEG as Linux's uapi defines them.
constexpr int msg_pool_kib = msg_queues_max * static_cast<int>(msg_queue_bytes_max) / 1024;
constexpr int msg_map = static_cast<int>(msg_queue_bytes_max);
constexpr int msg_headers_max = static_cast<int>(msg_queue_bytes_max);
constexpr int msg_segments = 0xffff;

MessageRegistry& messages(Thread& thread) {
    return thread.kernel().ipc().messages;
}

// msgrcv's msgtyp and flags as Linux's convert_mode().
MessageSelector selector_for(long type, int flags) {
    using Mode = MessageSelector::Mode;
    if (flags & msg_copy)
        return {Mode::number, type};
    if (type == 0)
        return {Mode::any, 0};
    if (type < 0)
        return {Mode::less_equal, type == LONG_MIN ? LONG_MAX : -type};
    return {(flags & MSG_EXCEPT) ? Mode::not_equal : Mode::equal, type};
}

Result<long> message_info(Thread& thread, int command, uint64_t address) {
    MessageRegistry& registry = messages(thread);
    struct msginfo info {};
    info.msgmni = msg_queues_max;
    info.msgmax = static_cast<int>(msg_size_max);
    info.msgmnb = static_cast<int>(msg_queue_bytes_max);
    info.msgssz = msg_segment_size;
    info.msgseg = msg_segments;
    if (command == MSG_INFO) {
        info.msgpool = static_cast<int>(registry.queues_in_use());
        info.msgmap = static_cast<int>(registry.messages_queued());
        info.msgtql = static_cast<int>(registry.bytes_queued());
    } else {
        info.msgpool = msg_pool_kib;
        info.msgmap = msg_map;
        info.msgtql = msg_headers_max;
    }
    TRY(write_user(thread, address, info));
    return std::max(registry.max_index(), 0);
}

}  // namespace

// Msgget implements Linux syscall msgget(2).
Result<long> sys_msgget(Thread& thread, const SyscallArgs& args) {
    return TRY(messages(thread).get(static_cast<key_t>(args.integer(0)), args.integer(1),
                                    ipc_caller(thread)));
}

// Msgsnd implements Linux syscall msgsnd(2): waits while the queue is past
// msg_qbytes unless IPC_NOWAIT (EAGAIN).
Result<long> sys_msgsnd(Thread& thread, const SyscallArgs& args) {
    int id = args.integer(0);
    uint64_t address = args.address(1);
    size_t size = args.size(2);
    int flags = args.integer(3);
    long type = TRY(read_user<long>(thread, address));
    if (size > msg_size_max || static_cast<long>(size) < 0 || id < 0)
        return Error(EINVAL, "bad message size or queue id");
    if (type < 1)
        return Error(EINVAL, "mtype must be positive");
    QueuedMessage message{type, std::vector<uint8_t>(size)};
    TRY(copy_from_user(thread, message.text.data(), address + sizeof(long), size));
    MessageRegistry& registry = messages(thread);
    std::shared_ptr<MessageQueue> queue = TRY(registry.find(id));
    for (;;) {
        IpcCaller caller = ipc_caller(thread);
        if (!ipc_permitted(queue->status.msg_perm, caller, writable))
            return Error(EACCES, "message queue permission denied");
        if (queue->removed)
            return Error(EIDRM, "the message queue was removed");
        uint32_t seen = queue->changes.value();
        if (TRY(registry.try_send(*queue, message, caller)))
            return 0;
        if (flags & IPC_NOWAIT)
            return Error(EAGAIN, "the queue is full (IPC_NOWAIT)");
        TRY(queue->changes.wait(thread, seen, std::nullopt));
    }
}

// Msgrcv implements Linux syscall msgrcv(2): msgtyp 0, > 0, < 0,
// MSG_EXCEPT, MSG_NOERROR (else E2BIG for a longer message) and MSG_COPY
// (a copy of the message at index msgtyp, with IPC_NOWAIT only).
Result<long> sys_msgrcv(Thread& thread, const SyscallArgs& args) {
    int id = args.integer(0);
    uint64_t address = args.address(1);
    auto size = static_cast<long>(args.size(2));
    auto type = static_cast<long>(args.raw[3]);
    int flags = args.integer(4);
    if (id < 0 || size < 0)
        return Error(EINVAL, "bad message size or queue id");
    if ((flags & msg_copy) && ((flags & MSG_EXCEPT) || !(flags & IPC_NOWAIT)))
        return Error(EINVAL, "MSG_COPY needs IPC_NOWAIT and no MSG_EXCEPT");
    if (flags & msg_copy)
        size = std::min(size, static_cast<long>(msg_size_max));
    MessageSelector selector = selector_for(type, flags);
    MessageRegistry& registry = messages(thread);
    std::shared_ptr<MessageQueue> queue = TRY(registry.find(id));
    for (;;) {
        IpcCaller caller = ipc_caller(thread);
        if (!ipc_permitted(queue->status.msg_perm, caller, readable))
            return Error(EACCES, "message queue permission denied");
        if (queue->removed)
            return Error(EIDRM, "the message queue was removed");
        uint32_t seen = queue->changes.value();
        auto picked = registry.pick(*queue, selector);
        if (picked) {
            if (static_cast<size_t>(size) < (*picked)->text.size() && !(flags & MSG_NOERROR))
                return Error(E2BIG, "the message is longer than msgsz");
            QueuedMessage message =
                (flags & msg_copy) ? **picked : registry.take(*queue, *picked, caller);
            size_t count = std::min(message.text.size(), static_cast<size_t>(size));
            TRY(write_user(thread, address, message.type));
            TRY(copy_to_user(thread, address + sizeof(long), message.text.data(), count));
            return static_cast<long>(count);
        }
        if (flags & IPC_NOWAIT)
            return Error(ENOMSG, "no message of the wanted type");
        TRY(queue->changes.wait(thread, seen, std::nullopt));
    }
}

// Msgctl implements Linux syscall msgctl(2): IPC_STAT, IPC_SET, IPC_RMID,
// IPC_INFO, MSG_INFO, MSG_STAT and MSG_STAT_ANY.
Result<long> sys_msgctl(Thread& thread, const SyscallArgs& args) {
    int id = args.integer(0);
    int command = args.integer(1) & ~ipc_64_flag;
    uint64_t address = args.address(2);
    // Linux refuses a negative id or command for every command, IPC_INFO too.
    if (id < 0 || args.integer(1) < 0)
        return Error(EINVAL, "negative queue id or command");
    MessageRegistry& registry = messages(thread);
    switch (command) {
        case IPC_INFO:
        case MSG_INFO:
            return message_info(thread, command, address);
        case MSG_STAT:
        case msg_stat_any: {
            auto [full_id, queue] = TRY(registry.at_index(id));
            if (command == MSG_STAT &&
                !ipc_permitted(queue->status.msg_perm, ipc_caller(thread), readable))
                return Error(EACCES, "message queue permission denied");
            TRY(write_user(thread, address, queue->status));
            return full_id;
        }
        case IPC_STAT:
        case IPC_SET:
        case IPC_RMID:
            break;
        default:
            return Error(EINVAL, "unknown msgctl command");
    }
    struct msqid_ds wanted {};
    if (command == IPC_SET)
        wanted = TRY(read_user<struct msqid_ds>(thread, address));
    std::shared_ptr<MessageQueue> queue = TRY(registry.find(id));
    IpcCaller caller = ipc_caller(thread);
    if (command == IPC_STAT) {
        if (!ipc_permitted(queue->status.msg_perm, caller, readable))
            return Error(EACCES, "message queue permission denied");
        TRY(write_user(thread, address, queue->status));
        return 0;
    }
    if (!ipc_may_change(queue->status.msg_perm, caller))
        return Error(EPERM, "not the owner of the message queue");
    if (command == IPC_RMID) {
        registry.remove(id);
        return 0;
    }
    if (wanted.msg_qbytes > msg_queue_bytes_max && !caller.privileged())
        return Error(EPERM, "raising msg_qbytes past MSGMNB needs CAP_SYS_RESOURCE");
    queue->status.msg_qbytes = wanted.msg_qbytes;
    ipc_set_owner(queue->status.msg_perm, wanted.msg_perm);
    queue->status.msg_ctime = caller.now;
    registry.changed(*queue);
    return 0;
}

}  // namespace myst::kernel
