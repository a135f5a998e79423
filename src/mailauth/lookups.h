// run_lookups: drives a sans-I/O evaluator (SPF, DKIM, DMARC, ARC) against the resolver: asks
// each query it names, feeds back the answer, until it needs nothing more.
#pragma once

#include <boost/asio/awaitable.hpp>
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

}  // namespace tern::mailauth
