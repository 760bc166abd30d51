// Errors as values: Result<T> holds either a T or an Error (errno + message).
// Kernel code uses only the errno; the tools print the message.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace myst {

class Error {
public:
    Error(int code, std::string message) : m_code(code), m_message(std::move(message)) {}

    // An error from a failed host call: the message gets strerror(code) appended.
    static Error from_errno(int code, const std::string& what);
    // A malformed-input error (EINVAL unless told otherwise).
    static Error invalid(std::string message, int code = EINVAL) {
        return {code, std::move(message)};
    }

    int code() const { return m_code; }
    const std::string& message() const { return m_message; }

    // "context: message", e.g. the file name in front of the reason.
    Error with_context(const std::string& context) const {
        return {m_code, context + ": " + m_message};
    }

private:
    int m_code;
    std::string m_message;
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_storage(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_storage(std::in_place_index<1>, std::move(error)) {}

    bool is_error() const { return m_storage.index() == 1; }
    explicit operator bool() const { return !is_error(); }

    T& value() & { return std::get<0>(m_storage); }
    const T& value() const& { return std::get<0>(m_storage); }
    T release_value() { return std::move(std::get<0>(m_storage)); }
    const Error& error() const { return std::get<1>(m_storage); }
    Error release_error() { return std::move(std::get<1>(m_storage)); }

private:
    std::variant<T, Error> m_storage;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)), m_failed(true) {}

    bool is_error() const { return m_failed; }
    explicit operator bool() const { return !m_failed; }
    void release_value() {}
    const Error& error() const { return m_error; }
    Error release_error() { return std::move(m_error); }

private:
    Error m_error{0, {}};
    bool m_failed = false;
};

}  // namespace myst

// TRY(expr): evaluate a Result; on error return it from the enclosing function,
// otherwise yield the value.
#define TRY(expr)                               \
    ({                                          \
        auto _try_result = (expr);              \
        if (_try_result.is_error())             \
            return _try_result.release_error(); \
        _try_result.release_value();            \
    })
