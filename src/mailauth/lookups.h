// run_lookups: drives a sans-I/O evaluator (SPF, DKIM, DMARC, ARC) against the resolver: asks
// each query it names, feeds back the answer, until it needs nothing more.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>

#include "dns/answer.h"
#include "dns/resolver.h"

namespace tern::mailauth {

// The protocol every evaluator speaks: next_query() names the next DNS question, or nullopt
// when the evaluator has its result; feed() gives it the answer to the question it named.
template <class Evaluator>
concept LookupDriven = requires(Evaluator e, const dns::Answer& a) {
    { e.next_query() } -> std::same_as<std::optional<dns::Query>>;
    e.feed(a);
};

template <LookupDriven Evaluator>
boost::asio::awaitable<void> run_lookups(dns::Resolver& resolver, Evaluator& evaluator) {
    while (auto query = evaluator.next_query())
        evaluator.feed(co_await resolver.query(query->name, query->type));
}

// The same within a time budget. Once `deadline` has passed, an evaluator with a time_out()
// (SPF: the whole check becomes temperror, RFC 7208 section 4.6.4) is told so; any other gets
// every further question answered as a temporary failure without asking, so it ends with what
// it has.
template <LookupDriven Evaluator>
boost::asio::awaitable<void> run_lookups(dns::Resolver& resolver, Evaluator& evaluator,
                                         std::chrono::steady_clock::time_point deadline) {
    while (auto query = evaluator.next_query()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            if constexpr (requires { evaluator.time_out(); }) {
                evaluator.time_out();
                break;
            }
            dns::Answer late;
            late.status = dns::Answer::Status::kTempFail;
            late.why = "the time for this message's checks ran out";
            evaluator.feed(late);
            continue;
        }
        evaluator.feed(co_await resolver.query(query->name, query->type));
    }
}

}  // namespace tern::mailauth
