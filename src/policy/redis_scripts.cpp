// The Lua scripts of the Redis store. Numbers are Lua doubles: microseconds since 1970 stay
// exact (below 2^53) and are written back with %.0f, never Lua's 14-digit default.
#include "policy/redis_scripts.h"

namespace tern::policy::redis_scripts {

const std::string_view kTake = R"lua(
local now = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
local nxt = tat + interval * n
if nxt - now > period then return 0 end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.floor((nxt - now) / 1000) + 1)
return 1
)lua";

const std::string_view kGreylist = R"lua(
local now = tonumber(ARGV[1])
local delay = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local max_age = tonumber(ARGV[4])
local allow = tonumber(ARGV[5])
local function us(x) return string.format('%.0f', x) end
local ttl_known = math.floor(max_age / 1000) + 1
local p = redis.call('HMGET', KEYS[2], 'count', 'last')
local count = tonumber(p[1] or '0')
if count ~= 0 and now - tonumber(p[2] or '0') > max_age then count = 0 end
if allow ~= 0 and count >= allow then return {1, 0, 'allowlisted'} end
local t = redis.call('HMGET', KEYS[1], 'first', 'last', 'passed')
local known = t[1] ~= false
local first = tonumber(t[1] or '0')
if known and t[3] == '1' then
  if now - tonumber(t[2] or '0') <= max_age then
    redis.call('HSET', KEYS[1], 'last', us(now))
    redis.call('PEXPIRE', KEYS[1], ttl_known)
    return {1, 0, 'known'}
  end
  known = false
elseif known and now - first > window then
  known = false
end
if not known then
  redis.call('HSET', KEYS[1], 'first', us(now), 'last', us(now), 'passed', '0')
  redis.call('PEXPIRE', KEYS[1], math.floor(window / 1000) + 1)
  return {0, delay, 'new'}
end
if now - first < delay then return {0, delay - (now - first), 'early'} end
redis.call('HSET', KEYS[1], 'last', us(now), 'passed', '1')
redis.call('PEXPIRE', KEYS[1], ttl_known)
redis.call('HSET', KEYS[2], 'count', us(count + 1), 'last', us(now))
redis.call('PEXPIRE', KEYS[2], ttl_known)
return {1, 0, 'passed'}
)lua";

}  // namespace tern::policy::redis_scripts
