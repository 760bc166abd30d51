// One readiness condition of a kernel object (a pipe has data, an eventfd
// can be written...) mirrored by a host wake fd (DESIGN.md decision 7): the
// host eventfd is readable exactly while the condition holds, so a wait on
// many objects is one host ppoll. The fd is made on the first wait only:
// objects nobody waits for cost no host fd and no host call per change.
#pragma once

#include "base/result.h"
#include "target/target.h"

namespace myst::kernel {

class WakeSignal {
public:
    explicit WakeSignal(Target& target) : m_target(target) {}
    ~WakeSignal();
    WakeSignal(const WakeSignal&) = delete;
    WakeSignal& operator=(const WakeSignal&) = delete;

    // Records whether the condition holds; the wake fd, if any, follows
    // (one host call on each change, none otherwise).
    void set(bool ready);
    bool is_set() const { return m_ready; }
    // The wake fd, made (readable when the condition holds) on first use.
    Result<int> fd();

private:
    Target& m_target;
    int m_fd = -1;
    bool m_ready = false;
};

}  // namespace myst::kernel
