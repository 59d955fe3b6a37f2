-- Referential integrity inside the population registry: every household membership names an existing
-- person and an existing household.
--
-- id: population.household_members.references
-- registry: population
-- dataset: population.household_members
-- dimension: consistency
-- severity: error
-- threshold: 0.001
-- description: A household membership names an existing person and an existing household
-- from: household_members m
-- division: (SELECT h.division_code FROM households h WHERE h.id = m.household_id)
SELECT m.id AS key, h.division_code,
       concat_ws('; ',
         CASE WHEN p.id IS NULL THEN 'person ' || m.person_id || ' does not exist' END,
         CASE WHEN h.id IS NULL THEN 'household ' || m.household_id || ' does not exist' END) AS detail
  FROM household_members m
  LEFT JOIN persons p ON p.id = m.person_id
  LEFT JOIN households h ON h.id = m.household_id
 WHERE p.id IS NULL OR h.id IS NULL
