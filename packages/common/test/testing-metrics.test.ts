import { metricValue } from '../src/testing';

const exposition = [
  '# HELP subgraph_graphql_requests_total GraphQL requests',
  '# TYPE subgraph_graphql_requests_total counter',
  'subgraph_graphql_requests_total 42',
  '# HELP cache_hits_total hits',
  '# TYPE cache_hits_total counter',
  'cache_hits_total{entity="course"} 7',
  '# HELP cache_misses_total misses',
  '# TYPE cache_misses_total counter',
  '',
].join('\n');

describe('metricValue', () => {
  it('reads an unlabelled and a labelled sample', () => {
    expect(metricValue(exposition, 'subgraph_graphql_requests_total')).toBe(42);
    expect(metricValue(exposition, 'cache_hits_total', { entity: 'course' })).toBe(7);
  });

  it('reads 0 for a declared labelled family whose series has not been incremented yet', () => {
    expect(metricValue(exposition, 'cache_misses_total', { entity: 'course' })).toBe(0);
    expect(metricValue(exposition, 'cache_hits_total', { entity: 'page' })).toBe(0);
  });

  it('throws when the metric is not there at all, instead of reading 0', () => {
    expect(() => metricValue(exposition, 'subgraph_requests_total')).toThrow('metric subgraph_requests_total is not in the exposition');
    expect(() => metricValue(exposition, 'cache_errors_total', { entity: 'course' })).toThrow('metric cache_errors_total is not in the exposition');
    expect(() => metricValue(exposition, 'cache_misses_total')).toThrow('metric cache_misses_total has no unlabelled sample');
    expect(() => metricValue('', 'subgraph_graphql_requests_total')).toThrow(/not in the exposition/);
  });

  it('does not take a longer name that starts with the same text', () => {
    const text = '# TYPE a_total counter\na_total_extra 5\n';
    expect(() => metricValue(text, 'a_total')).toThrow('has no unlabelled sample');
  });
});
