import { MessageAnalyzer, SUMMARY_WIRE_MAX_BYTES, encodeSummaryWire, messageSummary } from '@correo/mime';

/**
 * Messages up to this size are analysed on their way into the blob store. Past it the analysis is
 * given up (the mda analyses the blob, as it always can): a big message's summary rarely fits the
 * event, and the 250 of a 30 MB message should not wait for a parse nobody may use.
 */
export const CARRIED_ANALYSIS_MAX_MESSAGE_BYTES = 16 * SUMMARY_WIRE_MAX_BYTES;

/**
 * The MIME analysis of the stored bytes, made while they stream into the blob store so the mda
 * neither reads nor re-parses the blob (issue 9, "every byte read once"); carried in
 * MailAccepted.analysis.
 */
export class CarriedAnalysis {
  private readonly analyzer = new MessageAnalyzer();
  private bytes = 0;
  private givenUp = false;

  /** Passes the stored bytes through unchanged, analysing them on the way. */
  async *tap(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of source) {
      if (!this.givenUp) {
        this.bytes += chunk.byteLength;
        if (this.bytes > CARRIED_ANALYSIS_MAX_MESSAGE_BYTES) this.givenUp = true;
        else this.analyzer.write(chunk);
      }
      yield chunk;
    }
  }

  /** Analyses a message held whole (the MX spool's Buffer), as `tap` would have on its way. */
  whole(message: Buffer): Buffer {
    this.bytes += message.length;
    if (this.bytes > CARRIED_ANALYSIS_MAX_MESSAGE_BYTES) this.givenUp = true;
    else this.analyzer.write(message);
    return message;
  }

  /** The encoded summary for the event; empty when given up, too big, or not of these bytes. */
  encoded(stored: { sha256: string }): Uint8Array {
    if (this.givenUp) return new Uint8Array(0);
    const analysis = this.analyzer.end();
    // It always describes the stored bytes (same stream); checked so that a slip never files a lie.
    return analysis.sha256 === stored.sha256
      ? encodeSummaryWire(messageSummary(analysis))
      : new Uint8Array(0);
  }
}
