#include "kernel/wake_signal.h"

namespace myst::kernel {

WakeSignal::~WakeSignal() {
    if (m_fd >= 0)
        (void)m_target.file_close(m_fd);
}

void WakeSignal::set(bool ready) {
    if (ready == m_ready)
        return;
    m_ready = ready;
    if (m_fd < 0)
        return;
    // A failed host call would leave a waiter asleep or spinning; the
    // eventfd calls fail only on a bad fd, which this one is not.
    if (ready)
        (void)m_target.wake_fd_set(m_fd);
    else
        (void)m_target.wake_fd_clear(m_fd);
}

Result<int> WakeSignal::fd() {
    if (m_fd < 0) {
        m_fd = TRY(m_target.wake_fd_create());
        if (m_ready)
            TRY(m_target.wake_fd_set(m_fd));
    }
    return m_fd;
}

}  // namespace myst::kernel
