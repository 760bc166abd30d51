// The pipe object (kernel/pipe.h) on its own: the ring buffer, PIPE_BUF
// atomicity, end of file and EPIPE, sizes and the budget, the readiness
// the ends report and the wake fds that mirror it.
#include "kernel/pipe.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <cstring>
#include <vector>

#include "target/linux_target.h"

namespace myst::kernel {
namespace {

bool wake_fd_readable(int fd) {
    struct pollfd probe {
        fd, POLLIN, 0
    };
    return ::poll(&probe, 1, 0) == 1;
}

class PipeTest : public ::testing::Test {
protected:
    LinuxTarget target;
    PipeRegistry registry{1 << 20};
};

TEST_F(PipeTest, WrapsAroundTheRingAndKeepsOrder) {
    PipeEnds ends = make_pipe(registry, target, {}, 0).release_value();
    std::vector<uint8_t> data(40000), back(40000);
    for (int round = 0; round < 5; ++round) {
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<uint8_t>(i * 7 + round);
        ASSERT_EQ(ends.write_end->write(data).value(), data.size());
        ASSERT_EQ(ends.read_end->read(back).value(), back.size());
        EXPECT_EQ(data, back);
    }
}

// tee(2)'s peek copies the oldest bytes, across the wrap, and leaves them.
TEST_F(PipeTest, PeekLeavesTheBytes) {
    PipeEnds ends = make_pipe(registry, target, {}, 0).release_value();
    Pipe& pipe = ends.read_end->pipe();
    uint8_t byte[1];
    EXPECT_EQ(pipe.peek(byte).error().code(), EAGAIN);
    std::vector<uint8_t> filler(60000, 1), back(60000);
    ASSERT_EQ(pipe.write(filler).value(), filler.size());
    ASSERT_EQ(pipe.read(back).value(), back.size());
    const std::string text = "0123456789abcdef";  // wraps at the ring's end
    for (int i = 0; i < 400; ++i)
        ASSERT_EQ(pipe.write({reinterpret_cast<const uint8_t*>(text.data()), text.size()}).value(),
                  text.size());
    std::vector<uint8_t> peeked(6400), read(6400);
    ASSERT_EQ(pipe.peek(peeked).value(), 6400u);
    EXPECT_EQ(pipe.bytes_available(), 6400u);
    EXPECT_EQ(pipe.free_space(), pipe.capacity() - 6400);
    ASSERT_EQ(pipe.read(read).value(), 6400u);
    EXPECT_EQ(peeked, read);
    EXPECT_EQ(std::string(read.begin(), read.begin() + 16), text);
    ends.write_end.reset();
    EXPECT_EQ(pipe.peek(byte).value(), 0u);  // end of file
}

// Packet mode across the ring's wrap: packets keep their bounds, stream
// bytes written between them stay a stream.
TEST_F(PipeTest, PacketsKeepTheirBoundsAcrossTheWrap) {
    PipeEnds ends = make_pipe(registry, target, {}, O_DIRECT).release_value();
    std::vector<uint8_t> filler(60000, 'f'), back(65536);
    // 60000 bytes go in as 15 packets of at most PIPE_BUF, read one a call.
    ASSERT_EQ(ends.write_end->write(filler).value(), filler.size());
    size_t drained = ends.read_end->read(back).value();
    EXPECT_EQ(drained, kPipeAtomicSize);
    while (drained < filler.size())
        drained += ends.read_end->read(back).value();
    const uint8_t first[] = {'a', 'b', 'c'}, second[] = {'d', 'e'};
    for (int round = 0; round < 30; ++round) {  // the ring wraps meanwhile
        ASSERT_EQ(ends.write_end->write(first).value(), 3u);
        ASSERT_EQ(ends.write_end->write(second).value(), 2u);
        ASSERT_EQ(ends.read_end->read(back).value(), 3u);
        ASSERT_EQ(ends.read_end->read(std::span(back).first(1)).value(), 1u);  // drops "e"
        EXPECT_EQ(back[0], 'd');
    }
    EXPECT_EQ(ends.read_end->poll_events() & POLLIN, 0u);
    EXPECT_EQ(drained, filler.size());
}

TEST_F(PipeTest, SmallWritesAreAllOrNothing) {
    PipeEnds ends = make_pipe(registry, target, {}, 0).release_value();
    std::vector<uint8_t> fill(65536 - 100, 'a'), atomic(4096, 'b'), large(10000, 'c');
    ASSERT_EQ(ends.write_end->write(fill).value(), fill.size());
    EXPECT_EQ(ends.write_end->write(atomic).error().code(), EAGAIN);
    EXPECT_EQ(ends.write_end->write(large).value(), 100u);  // larger: in part
    EXPECT_EQ(ends.write_end->poll_events() & POLLOUT, 0u);
}

TEST_F(PipeTest, EndOfFileAndBrokenPipe) {
    PipeEnds ends = make_pipe(registry, target, {}, 0).release_value();
    uint8_t byte = 0;
    EXPECT_EQ(ends.read_end->read({&byte, 1}).error().code(), EAGAIN);
    int readable = ends.read_end->pipe().read_end_wake_fd().release_value();
    EXPECT_FALSE(wake_fd_readable(readable));
    ASSERT_EQ(ends.write_end->write(std::vector<uint8_t>{1}).value(), 1u);
    EXPECT_TRUE(wake_fd_readable(readable));
    EXPECT_EQ(ends.read_end->poll_events(), static_cast<uint32_t>(POLLIN | POLLRDNORM));
    ends.write_end.reset();
    EXPECT_EQ(ends.read_end->poll_events(), static_cast<uint32_t>(POLLIN | POLLRDNORM | POLLHUP));
    EXPECT_EQ(ends.read_end->read({&byte, 1}).value(), 1u);
    EXPECT_EQ(ends.read_end->read({&byte, 1}).value(), 0u);
    EXPECT_TRUE(wake_fd_readable(readable));  // a hang-up wakes readers too

    PipeEnds other = make_pipe(registry, target, {}, 0).release_value();
    other.read_end.reset();
    EXPECT_EQ(other.write_end->write(std::vector<uint8_t>{1}).error().code(), EPIPE);
    EXPECT_TRUE(other.write_end->poll_events() & POLLERR);
}

TEST_F(PipeTest, SizesFollowLinuxAndTheBudget) {
    PipeEnds ends = make_pipe(registry, target, {}, 0).release_value();
    Pipe& pipe = ends.read_end->pipe();
    EXPECT_EQ(pipe.set_capacity(10000, false).value(), 16384u);
    EXPECT_EQ(pipe.set_capacity(1, false).value(), 4096u);
    EXPECT_EQ(pipe.set_capacity((1 << 20) + 1, false).error().code(), EPERM);
    ASSERT_EQ(ends.write_end->write(std::vector<uint8_t>(3000, 'x')).value(), 3000u);
    EXPECT_EQ(pipe.set_capacity(1 << 20, true).value(), 1u << 20);
    // The whole 1 MiB budget is taken: a new pipe gets nothing.
    EXPECT_EQ(make_pipe(registry, target, {}, 0).error().code(), ENFILE);
    EXPECT_EQ(pipe.set_capacity(4096, false).value(), 4096u);
    EXPECT_EQ(pipe.bytes_available(), 3000u);
    EXPECT_TRUE(make_pipe(registry, target, {}, 0));
}

}  // namespace
}  // namespace myst::kernel
