import type { Socket } from 'node:net'

/**
 * Holds a socket corked until the current tick's work is done, so the frames sent while
 * handling one read leave in one write. The generator does this for both trackers alike.
 */
export class TickCork {
  private corked = false

  constructor(private readonly socket: Socket) {}

  hold(): void {
    if (this.corked) return
    this.corked = true
    this.socket.cork()
    process.nextTick(() => {
      this.corked = false
      this.socket.uncork()
    })
  }
}
