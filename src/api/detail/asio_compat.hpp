#pragma once
// Include this before any Boost.Asio/Beast header in the api module.
//
// Boost 1.74's asio/awaitable.hpp calls std::exchange without including <utility>; GCC 12's standard
// headers no longer pull it in transitively, so the order below matters and clang-format must not
// sort it. (Clang additionally needs BOOST_ASIO_HAS_CO_AWAIT, which api/CMakeLists.txt defines.)
// clang-format off
#include <utility>
#include <boost/asio/awaitable.hpp>
// clang-format on
