/** One encoded image as it came from a camera, before any decoding. */
export interface Frame {
  /** Encoded bytes (JPEG or PNG) exactly as received. */
  readonly data: Buffer;
  /** Wall-clock time the frame was captured or received, epoch ms. */
  readonly capturedAt: number;
  /** Where the frame came from, for the record (file name, URL path; never credentials). */
  readonly origin: string;
  /** Part ID carried by the frame itself (e.g. in a smart camera's file name), if any. */
  readonly partId?: string;
}
