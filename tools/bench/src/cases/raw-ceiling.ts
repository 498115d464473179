import type { BenchCase } from '../bench-case';
import { cpuFigure, measureCpu } from '../cpu';
import { Progress } from '../progress';
import { startCollector } from '../streaming';
import { driver } from './raw-ceiling.driver';

export const RAW_CEILING_FIGURE = 'raw kafkajs consume→produce ceiling';
export const RAW_CEILING_CPU_FIGURE = 'raw ceiling: CPU per event (pipe and runtime threads)';

/** BENCH_RAW_EVENTS is split into this many rounds, each timed on its own. */
const RAW_ROUNDS = 3;

/**
 * The most a Node consumer-producer moves through this cluster with no logic at all: topic A →
 * (consume, produce the fetched batch as is) → topic B. The pipe has the main thread to itself,
 * as the platform's services do in the order-path case; the source and the sink run in the
 * driver thread. Everything the order path does per event is paid on top of this.
 */
export const rawCeilingCase: BenchCase = {
  id: 'raw-ceiling',
  description: 'kafkajs consume → produce with no logic',
  async run(context) {
    const { options, runId } = context;
    const inTopic = `bench.raw.in.${runId}`;
    const outTopic = `bench.raw.out.${runId}`;
    const kafka = context.kafkaClient(`bench-raw-pipe-${runId}`);
    const pipeOut = kafka.producer({ allowAutoTopicCreation: true });
    await pipeOut.connect();
    context.onCleanup(() => pipeOut.disconnect());
    // Nobody waits on the pipe's own progress: a crash of its consumer is reported through it
    // and then shows as the driver stalling.
    const progress = new Progress(options.stallTimeoutMs);
    const pipe = await startCollector({
      kafka,
      topics: [inTopic],
      groupId: `bench-raw-pipe-${runId}`,
      progress,
      // One send per fetched batch, with the same acks as the platform's bus.
      onBatch: async (messages) => {
        await pipeOut.send({
          topic: outTopic,
          acks: -1,
          messages: messages.map((message) => ({ key: message.key, value: message.value })),
        });
      },
    });
    context.onCleanup(() => pipe.stop());

    const rounds = RAW_ROUNDS;
    const eventsPerRound = Math.max(1, Math.ceil(options.rawEvents / rounds));
    context.log(
      `raw ceiling: streaming ${rounds} rounds of ${eventsPerRound} events through ${inTopic} → ${outTopic} (window ${options.rawWindow})`,
    );
    const { result, cpu } = await measureCpu(() =>
      context.runDriver(driver, {
        runId,
        inTopic,
        outTopic,
        rounds,
        eventsPerRound,
        window: options.rawWindow,
        stallTimeoutMs: options.stallTimeoutMs,
      }),
    );
    const rates = result.rounds.map((round) => round.events / round.seconds);
    context.log(
      `raw ceiling: rounds at ${rates.map((rate) => rate.toFixed(0)).join(', ')} events/s (${result.redelivered} redelivered)`,
    );
    // A ceiling is the best the pipe did: a slower round measured a neighbour on the machine.
    return [
      { name: RAW_CEILING_FIGURE, value: Math.max(...rates), unit: 'events/s' },
      ...cpuFigure(context, RAW_CEILING_CPU_FIGURE, cpu(rounds * eventsPerRound)),
    ];
  },
};
