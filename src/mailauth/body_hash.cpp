// BodyHasher: one canonicaliser per canonicalisation asked for, feeding every digest that uses
// it, each cut at its own l= limit.
#include "mailauth/body_hash.h"

#include <algorithm>

namespace tern::mailauth {

std::size_t BodyHasher::request(Canon canon, std::optional<std::uint64_t> limit) {
    for (std::size_t h = 0; h < handles_.size(); ++h) {
        const Stream& s = streams_[handles_[h].stream];
        if (s.canon == canon && s.digests[handles_[h].digest].limit == limit) return h;
    }
    auto stream = std::find_if(streams_.begin(), streams_.end(),
                               [canon](const Stream& s) { return s.canon == canon; });
    if (stream == streams_.end()) {
        streams_.emplace_back(canon);
        stream = streams_.end() - 1;
    }
    stream->digests.push_back(Digest{limit, Sha256(), 0, {}});
    handles_.push_back(
        Handle{static_cast<std::size_t>(stream - streams_.begin()), stream->digests.size() - 1});
    return handles_.size() - 1;
}

void BodyHasher::hash(Stream& stream, std::string_view canonical) {
    stream.length += canonical.size();
    for (Digest& d : stream.digests) {
        std::string_view part = canonical;
        if (d.limit) {
            std::uint64_t room = *d.limit - d.hashed;
            if (part.size() > room) part = part.substr(0, static_cast<std::size_t>(room));
        }
        d.hash.update(part);
        d.hashed += part.size();
    }
}

void BodyHasher::feed(std::string_view chunk) {
    raw_length_ += chunk.size();
    for (Stream& s : streams_) {
        buffer_.clear();
        s.canonicalizer.feed(chunk, buffer_);
        hash(s, buffer_);
    }
}

void BodyHasher::finish() {
    if (finished_) return;
    finished_ = true;
    for (Stream& s : streams_) {
        buffer_.clear();
        s.canonicalizer.finish(buffer_);
        hash(s, buffer_);
        for (Digest& d : s.digests)
            d.value = d.hash.finish();
    }
    buffer_.clear();
    buffer_.shrink_to_fit();
}

const std::string& BodyHasher::digest(std::size_t handle) const {
    const Handle& h = handles_.at(handle);
    return streams_[h.stream].digests[h.digest].value;
}

std::uint64_t BodyHasher::canonical_length(std::size_t handle) const {
    return streams_[handles_.at(handle).stream].length;
}

}  // namespace tern::mailauth
