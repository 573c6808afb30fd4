export { FramedSocket } from './wire/framed-socket.js'
export { pieceFrameHead } from './wire/piece-frame.js'
