/**
 * The @x/memcache client: python-memcached's API as Promises. It is being
 * built; nothing here talks to a server yet.
 *
 * @module
 */

export {};
