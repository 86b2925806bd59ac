#pragma once
// co_await on a service's asynchronous call from a route handler:
//
//   auto start = [&](auto done) { node.transfers().list(std::move(done)); };
//   auto list = co_await detail::await<std::vector<app::Transfer>>(std::move(start));
//
// `start` receives a base::Done<T>; the service calls it once, on its own strand. The answer is
// posted back to the handler's executor (the connection's strand) before the coroutine resumes, so
// the handler never runs on a service's strand and never blocks one.
// clang-format off
#include "api/detail/asio_compat.hpp"  // before any Boost.Asio header; see there
// clang-format on
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

#include "base/async.hpp"

namespace kith::api::detail {

template <class T, class Start>
boost::asio::awaitable<T> await(Start start) {
  auto executor = co_await boost::asio::this_coro::executor;
  // Named, not a temporary in the co_await expression: GCC 12 destroys such a temporary twice across
  // the suspension (here: the captured executor's reference count, and so the connection's strand).
  // Callers: pass `start` as a named variable too (std::move it), for the same reason.
  auto initiation = [executor, start = std::move(start)](auto handler) mutable {
    // The coroutine's handler is move-only; Done<T> is a std::function, which must be copyable.
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    start(base::Done<T>([executor, shared](T value) mutable {
      boost::asio::post(executor,
                        [shared, value = std::move(value)]() mutable { (*shared)(std::move(value)); });
    }));
  };
  T result = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(T)>(
      std::move(initiation), boost::asio::use_awaitable);
  co_return result;
}

}  // namespace kith::api::detail
