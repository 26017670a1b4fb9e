import {
  authenticateCall,
  getProtos,
  requestIdOfCall,
  wrapUnary,
  type BuyCourseRequest,
  type BuyCourseResponse,
  type GrpcServiceBinding,
} from '@dream/common/grpc';
import { type Authenticator, type Logger } from '@dream/common';
import type { PurchaseService } from '../purchase';

/** courses.v1.PurchaseService: BuyCourse for the token's user (UNAUTHENTICATED without a valid token). */
export function purchaseServiceBinding(deps: { purchases: PurchaseService; authenticator: Authenticator; serviceSecret?: string; logger: Logger }): GrpcServiceBinding {
  const buyCourse = wrapUnary<BuyCourseRequest, BuyCourseResponse>(
    async (call) => {
      const user = await authenticateCall(call, deps.authenticator, deps.serviceSecret);
      return deps.purchases.buy(user, call.request, requestIdOfCall(call));
    },
    { logger: deps.logger },
  );
  return { definition: getProtos().purchaseService, implementation: { BuyCourse: buyCourse } };
}
