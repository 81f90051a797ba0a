import express, { type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { AllExceptionsFilter } from '../../common/errors/all-exceptions.filter.js';
import { bodyParserErrors, type RawBodyRequest } from '../../common/http/body-parsers.js';
import { WebhooksService } from './webhooks.service.js';

const PATH = '/v1/whatsapp/webhook';

/**
 * `POST /v1/whatsapp/webhook` as plain express handlers: JSON parsing with the raw bytes kept, then the same
 * `WebhooksService.receiveCloud` that `WebhooksController` documents. Every other request passes through untouched.
 */
export function webhookFastPath(webhooks: WebhooksService, limit: number, errors: AllExceptionsFilter): Array<RequestHandler | ErrorRequestHandler> {
  // Matched the way express routes (case-insensitive, trailing slash optional), so no spelling reaches the controller.
  const isCall = (req: Request) => req.method === 'POST' && req.path.replace(/\/+$/, '').toLowerCase() === PATH;
  const json = express.json({
    limit,
    type: () => true, // Meta sends application/json; anything else fails parsing and gets 400
    verify: (req: RawBodyRequest, _res, buf) => {
      req.rawBody = buf;
    },
  });
  const parse: RequestHandler = (req, res, next) => (isCall(req) ? json(req, res, next) : next());
  const handle: RequestHandler = (req: RawBodyRequest, res: Response, next: NextFunction) => {
    if (!isCall(req)) return next();
    const signature = req.headers['x-hub-signature-256'];
    webhooks
      .receiveCloud(req.rawBody, req.body, typeof signature === 'string' ? signature : undefined)
      .then(() => res.status(200).json({ received: true }))
      .catch((err: unknown) => errors.send(err, req as Request & { id?: string }, res));
  };
  return [parse, bodyParserErrors, handle];
}
