// bittorrent-tracker ships no types; the benchmark uses only this much of its server.
declare module 'bittorrent-tracker/server' {
  import type { Server as HttpServer } from 'node:http'
  import type { EventEmitter } from 'node:events'

  export default class Server extends EventEmitter {
    constructor(opts: { http?: boolean; udp?: boolean; ws?: boolean; stats?: boolean })
    http: HttpServer | null
    listen(port: number, hostname: string, onListening?: () => void): void
    close(cb?: () => void): void
  }
}
