import { GraphQLScalarType, Kind, print, type ValueNode } from 'graphql';
import { badInput } from '@dream/common';
import { checkPrice, InvalidPrice } from './validation';

/**
 * `Price`: a non-negative number or numeric string, stored and returned as a number.
 * Variables are rejected while coercing (Apollo answers BAD_USER_INPUT with our message); literals
 * yield an InvalidPrice marker that input validation turns into BAD_USER_INPUT (see InvalidPrice).
 */
export const PriceScalar = new GraphQLScalarType<number | InvalidPrice, number>({
  name: 'Price',
  description: 'A non-negative amount with at most 2 decimals, as a number or a numeric string.',
  serialize(value) {
    const r = checkPrice(value);
    if (!r.ok) throw new TypeError(r.message);
    return r.value;
  },
  parseValue(value) {
    const r = checkPrice(value);
    if (!r.ok) throw badInput(r.message, [{ field: 'price', message: r.message }]);
    return r.value;
  },
  parseLiteral(node: ValueNode) {
    if (node.kind === Kind.INT || node.kind === Kind.FLOAT || node.kind === Kind.STRING) {
      const r = checkPrice(node.kind === Kind.STRING ? node.value : Number(node.value));
      return r.ok ? r.value : new InvalidPrice(r.message);
    }
    return new InvalidPrice(`Price must be a number or a numeric string like "19.99"; got ${print(node).slice(0, 40)}.`);
  },
});
