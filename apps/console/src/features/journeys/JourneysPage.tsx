import { api } from '../../api/client';
import type { JourneyDefinition } from '../../api/types';
import { href } from '../../app/route';
import { Status } from '../../app/Status';
import { useApi } from '../../app/use-api';

export function JourneysPage() {
  const journeys = useApi(() => api<{ items: JourneyDefinition[] }>('/v1/journeys'), []);
  return (
    <section>
      <h1>Journeys</h1>
      <Status loaded={journeys} />
      {journeys.data && (
        <table>
          <thead>
            <tr>
              <th scope="col">Journey</th>
              <th scope="col">Trigger</th>
              <th scope="col">Priority</th>
              <th scope="col">Holdout</th>
              <th scope="col">Goal</th>
              <th scope="col">Steps</th>
              <th scope="col">In flight</th>
            </tr>
          </thead>
          <tbody>
            {journeys.data.items.map((journey) => (
              <tr key={journey.key}>
                <td>
                  <a href={href('journeys', journey.key)}>{journey.key}</a>
                </td>
                <td>{journey.trigger}</td>
                <td>{journey.priority}</td>
                <td>{journey.holdoutPercent}%</td>
                <td>{journey.goal ? `${journey.goal.event} within ${journey.goal.withinDays}d` : ''}</td>
                <td>{journey.steps.length}</td>
                <td>{journey.inFlight}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
