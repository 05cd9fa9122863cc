/**
 * The @x/memcache server: a memcached-compatible cache server on
 * `Deno.listen`. It is being built; nothing here serves requests yet.
 *
 * @module
 */

export {};
