#include "base/result.h"

#include <cstring>

namespace myst {

Error Error::from_errno(int code, const std::string& what) {
    return {code, what + ": " + std::strerror(code)};
}

}  // namespace myst
