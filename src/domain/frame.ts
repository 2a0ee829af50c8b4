/** Pixel layout of an unencoded frame (raw interleaved 8-bit samples, row-major, no padding). */
export interface RawLayout {
  readonly width: number;
  readonly height: number;
  /** 1 = grey, 3 = RGB. */
  readonly channels: 1 | 3;
}

/** An image as lineside handles it: encoded bytes (JPEG/PNG), or raw pixels with their layout. */
export interface ImageData {
  /** Encoded bytes exactly as received, or raw pixels when `raw` is set. */
  readonly data: Buffer;
  /** Present for raw pixels (decoded video from ffmpeg/GStreamer); absent for encoded images. */
  readonly raw?: RawLayout;
}

/** One image as it came from a camera. */
export interface Frame extends ImageData {
  /** Wall-clock time the frame was captured (or received, less the source's configured latency), epoch ms. */
  readonly capturedAt: number;
  /** Where the frame came from, for the record (file name, URL path; never credentials). */
  readonly origin: string;
  /** Part ID carried by the frame itself (e.g. in a smart camera's file name), if any. */
  readonly partId?: string;
  /** Position in the source's stream, counting from 1 at start; distinguishes frames with equal times. */
  readonly seq?: number;
}
