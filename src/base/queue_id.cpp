// QueueIdGenerator: time-ordered unique ids for messages; see queue_id.h for the layout.
// The sequence starts at a random value each microsecond so restarts never repeat an id.
#include "base/queue_id.h"

#include <random>

namespace tern {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::uint32_t kSequenceMask = (1u << 28) - 1;
constexpr std::size_t kLength = 16;

int digit_value(char c) {
    auto pos = kAlphabet.find(c);
    return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

}  // namespace

QueueIdGenerator::QueueIdGenerator() = default;

std::string QueueIdGenerator::next() {
    using namespace std::chrono;
    std::uint64_t micros = static_cast<std::uint64_t>(
        duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
    std::uint64_t seq = 0;
    {
        std::lock_guard lock(mutex_);
        if (micros <= last_micros_) {
            // Same microsecond (or the clock stepped back): stay ordered by counting on.
            micros = last_micros_;
            sequence_ = (sequence_ + 1) & kSequenceMask;
            if (sequence_ == 0) micros = ++last_micros_;
        } else {
            // A random start in the lower half leaves room to count within this microsecond.
            thread_local std::mt19937 rng{std::random_device{}()};
            sequence_ = rng() & (kSequenceMask >> 1);
            last_micros_ = micros;
        }
        seq = sequence_;
    }
    // 52 + 28 = 80 bits = 16 base32 digits, most significant first.
    std::uint64_t hi = micros & ((1ull << 52) - 1);
    std::string out(kLength, '0');
    // Lay the 80 bits out as hi(52) || seq(28) and cut 5 bits at a time from the right.
    for (std::size_t i = 0; i < kLength; ++i) {
        std::size_t shift = 5 * (kLength - 1 - i);  // bit offset from the right of 80 bits
        std::uint64_t bits;
        if (shift >= 28) {
            bits = hi >> (shift - 28);
        } else {
            bits = (seq >> shift) | (hi << (28 - shift));
        }
        out[i] = kAlphabet[bits & 31];
    }
    return out;
}

bool QueueIdGenerator::valid(std::string_view id) {
    if (id.size() != kLength) return false;
    for (char c : id)
        if (digit_value(c) < 0) return false;
    return true;
}

std::optional<std::chrono::system_clock::time_point> QueueIdGenerator::time_of(
    std::string_view id) {
    if (!valid(id)) return std::nullopt;
    // The first 52 bits: 10 full digits (50 bits) and the top 2 bits of the 11th.
    std::uint64_t micros = 0;
    for (std::size_t i = 0; i < 10; ++i)
        micros = (micros << 5) | digit_value(id[i]);
    micros = (micros << 2) | (digit_value(id[10]) >> 3);
    return std::chrono::system_clock::time_point(std::chrono::microseconds(micros));
}

}  // namespace tern
