// The kernel's IPC objects on their own (kernel/ipc_namespace.h): ids and
// keys, Linux's ipcperms() rule, semop's all-or-nothing arrays and
// SEM_UNDO, msgrcv's choice of message and the memory budget, POSIX queue
// priorities, notifications and the wake fds that mirror readiness.
#include "kernel/ipc_namespace.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <memory>

#include "target/linux_target.h"

namespace myst::kernel {
namespace {

bool wake_fd_readable(int fd) {
    struct pollfd probe {
        fd, POLLIN, 0
    };
    return ::poll(&probe, 1, 0) == 1;
}

template <typename T>
int error_code(const Result<T>& result) {
    return result.is_error() ? result.error().code() : 0;
}

class IpcTest : public ::testing::Test {
protected:
    void SetUp() override {
        memory = MemoryManager::create(target, 1 << 20).release_value();
        ipc = std::make_unique<IpcNamespace>(target, *memory);
        caller.euid = 1000;
        caller.egid = 1000;
        caller.pid = 42;
        caller.now = 1234;
    }

    LinuxTarget target;
    std::unique_ptr<MemoryManager> memory;
    std::unique_ptr<IpcNamespace> ipc;
    IpcCaller caller;
};

TEST_F(IpcTest, IdsOfRemovedObjectsAreNotFoundAgain) {
    SemaphoreRegistry& semaphores = ipc->semaphores;
    int first = semaphores.get(IPC_PRIVATE, 1, 0600, caller).value();
    semaphores.remove(first);
    int second = semaphores.get(IPC_PRIVATE, 1, 0600, caller).value();
    EXPECT_EQ(first % ipc_index_limit, second % ipc_index_limit);  // the index is reused
    EXPECT_NE(first, second);
    EXPECT_EQ(error_code(semaphores.find(first)), EINVAL);
    EXPECT_EQ(semaphores.at_index(second % ipc_index_limit).value().first, second);
    EXPECT_EQ(error_code(semaphores.find(-1)), EINVAL);
}

TEST_F(IpcTest, KeysFollowIpcGet) {
    SemaphoreRegistry& semaphores = ipc->semaphores;
    EXPECT_EQ(error_code(semaphores.get(77, 2, 0600, caller)), ENOENT);
    int id = semaphores.get(77, 2, IPC_CREAT | 0600, caller).value();
    EXPECT_EQ(semaphores.get(77, 2, 0, caller).value(), id);
    EXPECT_EQ(error_code(semaphores.get(77, 2, IPC_CREAT | IPC_EXCL, caller)), EEXIST);
    EXPECT_EQ(error_code(semaphores.get(77, 3, 0, caller)), EINVAL);
    IpcCaller other = caller;
    other.euid = 2000;
    other.egid = 2000;
    EXPECT_EQ(error_code(semaphores.get(77, 2, 0400, other)), EACCES);
    other.euid = 0;
    EXPECT_EQ(semaphores.get(77, 2, 0400, other).value(), id);  // root passes
}

TEST_F(IpcTest, PermissionsPickOneTriad) {
    struct ipc_perm perm {};
    perm.uid = perm.cuid = 1000;
    perm.gid = perm.cgid = 50;
    perm.mode = 0640;
    IpcCaller owner = caller;
    EXPECT_TRUE(ipc_permitted(perm, owner, 0222));
    IpcCaller member = caller;
    member.euid = 1001;
    member.groups = {50};
    EXPECT_TRUE(ipc_permitted(perm, member, 0444));
    EXPECT_FALSE(ipc_permitted(perm, member, 0222));
    IpcCaller stranger = caller;
    stranger.euid = 1002;
    stranger.egid = 1002;
    EXPECT_FALSE(ipc_permitted(perm, stranger, 0444));
    EXPECT_FALSE(ipc_may_change(perm, stranger));
    EXPECT_TRUE(ipc_may_change(perm, owner));
}

TEST_F(IpcTest, SemopArraysAreAllOrNothing) {
    SemaphoreRegistry& semaphores = ipc->semaphores;
    int id = semaphores.get(IPC_PRIVATE, 2, 0600, caller).value();
    std::shared_ptr<SemaphoreSet> set = semaphores.find(id).value();
    // Operations on one semaphore see the ones before them.
    struct sembuf up_down[] = {{0, 1, 0}, {0, -1, 0}};
    EXPECT_TRUE(semaphores.try_operations(*set, id, up_down, caller).value().done);
    struct sembuf blocked[] = {{1, 2, 0}, {0, -1, 0}};
    SemopOutcome outcome = semaphores.try_operations(*set, id, blocked, caller).value();
    EXPECT_FALSE(outcome.done);
    EXPECT_EQ(outcome.blocking_index, 1);
    EXPECT_EQ(set->semaphores[1].value, 0);
    struct sembuf too_big[] = {{0, 32767, 0}, {0, 1, 0}};
    EXPECT_EQ(error_code(semaphores.try_operations(*set, id, too_big, caller)), ERANGE);
    EXPECT_EQ(set->semaphores[0].value, 0);
    EXPECT_EQ(set->status.sem_otime, 1234);
    EXPECT_EQ(set->semaphores[0].pid, 42);
}

TEST_F(IpcTest, UndoIsAppliedAtExitAndDroppedBySetval) {
    SemaphoreRegistry& semaphores = ipc->semaphores;
    int id = semaphores.get(IPC_PRIVATE, 2, 0600, caller).value();
    std::shared_ptr<SemaphoreSet> set = semaphores.find(id).value();
    struct sembuf ops[] = {{0, 3, SEM_UNDO}, {1, 5, SEM_UNDO}};
    ASSERT_TRUE(semaphores.try_operations(*set, id, ops, caller).value().done);
    IpcCaller other = caller;
    other.pid = 43;
    semaphores.set_value(*set, id, 1, 7, other);
    struct sembuf take[] = {{0, -2, 0}};
    ASSERT_TRUE(semaphores.try_operations(*set, id, take, other).value().done);
    semaphores.process_ended(42);
    // Semaphore 0: 1 - 3 clamps to 0; semaphore 1's adjustment was dropped.
    EXPECT_EQ(set->semaphores[0].value, 0);
    EXPECT_EQ(set->semaphores[1].value, 7);
    EXPECT_EQ(set->semaphores[0].pid, 42);
}

TEST_F(IpcTest, MsgrcvPicksAsLinux) {
    MessageRegistry& messages = ipc->messages;
    int id = messages.get(IPC_PRIVATE, 0600, caller).value();
    std::shared_ptr<MessageQueue> queue = messages.find(id).value();
    for (long type : {3L, 1L, 2L, 1L}) {
        QueuedMessage message{type, std::vector<uint8_t>(static_cast<size_t>(type), 'x')};
        ASSERT_TRUE(messages.try_send(*queue, message, caller).value());
    }
    using Mode = MessageSelector::Mode;
    EXPECT_EQ((*messages.pick(*queue, {Mode::any, 0}))->type, 3);
    EXPECT_EQ((*messages.pick(*queue, {Mode::equal, 2}))->type, 2);
    EXPECT_EQ((*messages.pick(*queue, {Mode::not_equal, 3}))->type, 1);
    auto lowest = *messages.pick(*queue, {Mode::less_equal, 2});
    EXPECT_EQ(lowest, std::next(queue->messages.begin()));  // the first of the lowest type
    EXPECT_EQ((*messages.pick(*queue, {Mode::number, 2}))->type, 2);
    EXPECT_FALSE(messages.pick(*queue, {Mode::number, 4}));
    EXPECT_EQ(queue->status.msg_qnum, 4u);
    EXPECT_EQ(queue->status.__msg_cbytes, 7u);
    messages.take(*queue, lowest, caller);
    EXPECT_EQ(queue->status.msg_qnum, 3u);
    EXPECT_EQ(queue->status.msg_lrpid, 42);
}

TEST_F(IpcTest, MessagesCountAgainstTheBudget) {
    MessageRegistry& messages = ipc->messages;
    int id = messages.get(IPC_PRIVATE, 0600, caller).value();
    std::shared_ptr<MessageQueue> queue = messages.find(id).value();
    queue->status.msg_qbytes = 4 << 20;
    uint64_t before = memory->shared_bytes();
    QueuedMessage message{1, std::vector<uint8_t>(8192)};
    ASSERT_TRUE(messages.try_send(*queue, message, caller).value());
    EXPECT_EQ(memory->shared_bytes(), before + 8192);
    Result<bool> sent = true;
    for (int i = 0; i < 200 && !sent.is_error(); ++i) {
        QueuedMessage more{1, std::vector<uint8_t>(8192)};
        sent = messages.try_send(*queue, more, caller);
    }
    EXPECT_EQ(error_code(sent), ENOMEM);
    messages.remove(id);
    queue.reset();
    EXPECT_EQ(memory->shared_bytes(), before);
}

TEST_F(IpcTest, PosixQueuesOrderByPriorityAndNotifyOnce) {
    PosixQueueRegistry& queues = ipc->posix_queues;
    struct mq_attr attributes {};
    attributes.mq_maxmsg = 2;
    attributes.mq_msgsize = 16;
    auto file = queues.open("q", O_RDWR | O_CREAT, 0600, &attributes, caller, 819200).value();
    PosixQueue& queue = file->queue();
    struct sigevent event {};
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGUSR1;
    ASSERT_FALSE(queue.notify(42, &event).is_error());
    EXPECT_EQ(error_code(queue.notify(43, &event)), EBUSY);
    int readable = queue.readable_fd().value();
    int writable = queue.writable_fd().value();
    EXPECT_FALSE(wake_fd_readable(readable));
    EXPECT_TRUE(wake_fd_readable(writable));
    auto due = queue.send({'a'}, 1).value();
    ASSERT_TRUE(due);
    EXPECT_EQ(due->pid, 42);
    EXPECT_FALSE(queue.send({'b'}, 5).value());  // once only
    EXPECT_EQ(error_code(queue.send({'c'}, 9)), EAGAIN);
    EXPECT_TRUE(wake_fd_readable(readable));
    EXPECT_FALSE(wake_fd_readable(writable));
    EXPECT_EQ(queue.receive().value().second, 5u);
    EXPECT_EQ(queue.receive().value().second, 1u);
    EXPECT_EQ(error_code(queue.receive()), EAGAIN);
    EXPECT_EQ(
        error_code(queues.open("q", O_RDWR | O_CREAT | O_EXCL, 0600, nullptr, caller, 819200)),
        EEXIST);
    EXPECT_EQ(error_code(queues.open("a/b", O_RDWR | O_CREAT, 0600, nullptr, caller, 819200)),
              EACCES);
    attributes.mq_maxmsg = 11;  // past msg_max for an unprivileged caller
    EXPECT_EQ(error_code(queues.open("r", O_RDWR | O_CREAT, 0600, &attributes, caller, 819200)),
              EINVAL);
    EXPECT_EQ(error_code(queues.open("r", O_RDWR | O_CREAT, 0600, nullptr, caller, 1000)), EMFILE);
    ASSERT_FALSE(queues.unlink("q", caller).is_error());
    EXPECT_EQ(error_code(queues.unlink("q", caller)), ENOENT);
}

}  // namespace
}  // namespace myst::kernel
