-- id: population.persons.household_exists
-- registry: population
-- dataset: population.persons
-- dimension: consistency
-- severity: error
-- threshold: 0.001
-- description: A person's household is a registered household
-- from: persons p
-- where: p.household_id IS NOT NULL
-- division: p.hukou_division_code
SELECT p.id AS key, p.hukou_division_code AS division_code,
       'household ' || p.household_id || ' does not exist' AS detail
  FROM persons p
 WHERE p.household_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM households h WHERE h.id = p.household_id)
