#pragma once
// unique_ptr aliases with nghttp2 deleters: every nghttp2 handle we own lives in one.
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <string_view>

namespace cardsmith::apns::detail {

template <auto Fn>
struct H2Deleter {
    template <typename T>
    void operator()(T* p) const noexcept {
        Fn(p);
    }
};

using H2SessionPtr = std::unique_ptr<nghttp2_session, H2Deleter<nghttp2_session_del>>;
using H2CallbacksPtr =
    std::unique_ptr<nghttp2_session_callbacks, H2Deleter<nghttp2_session_callbacks_del>>;
using H2OptionPtr = std::unique_ptr<nghttp2_option, H2Deleter<nghttp2_option_del>>;

// A header for nghttp2_submit_*: nothing is copied, so name and value must outlive the
// frame (they live in the PushOp or the connection). `flags` adds e.g. NO_INDEX.
inline nghttp2_nv make_nv(std::string_view name, std::string_view value, std::uint8_t flags = 0) {
    return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
            reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
            value.size(),
            static_cast<std::uint8_t>(NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE |
                                      flags)};
}

}  // namespace cardsmith::apns::detail
