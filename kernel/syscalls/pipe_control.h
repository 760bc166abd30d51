// The fcntl(2) requests on pipes, served in kernel/syscalls/pipe.cpp.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "fs/vfs/open_file.h"

namespace myst::kernel {

class Thread;

// F_GETPIPE_SZ and F_SETPIPE_SZ: EBADF when `file` is not a pipe or FIFO.
Result<long> pipe_fcntl(Thread& thread, fs::OpenFile& file, int command, uint64_t argument);

// The end of a blocking open(2) of a FIFO: a reader waits for a writer and
// a writer for a reader (fifo(7)), interruptibly, without the kernel lock.
// Nothing for other files.
Result<void> wait_for_fifo_peer(Thread& thread, fs::OpenFile& file);

}  // namespace myst::kernel
