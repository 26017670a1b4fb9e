import * as grpc from '@grpc/grpc-js';

/** One raw unary call with grpc-js (no pool, no retries), resolving with the response or the ServiceError. */
export function rawUnary<Req, Res>(
  address: string,
  def: grpc.MethodDefinition<Req, Res>,
  request: Req,
  metadata = new grpc.Metadata(),
  deadlineMs = 5000,
): Promise<{ res?: Res; err?: grpc.ServiceError }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest<Req, Res>(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      request,
      metadata,
      { deadline: Date.now() + deadlineMs },
      (err, res) => {
        client.close();
        resolve(err ? { err } : { res: res as Res });
      },
    );
  });
}

/** A pino destination that keeps the parsed lines. */
export function captureLogs(): { lines: Array<Record<string, unknown>>; write(s: string): void } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
}
